// SPDX-License-Identifier: MIT
// `convjit bench`: measuring, checking and reporting.
#include "bench/suite.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <unistd.h>

#include "bench/peak.h"
#include "generator/error.h"
#include "generator/model.h"

namespace convjit::bench {
namespace {

// Adds name to names unless it is there: shapes and impls in first-seen order.
void append_once(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

bench_row* find_row(std::vector<bench_row>& rows, std::string_view impl) {
  for (auto& r : rows)
    if (r.impl == impl && !r.skipped && r.correct) return &r;
  return nullptr;
}

}  // namespace

std::vector<bench_row> bench_problem(const problem& p, const bench_options& options) {
  std::vector<bench_row> rows;
  // Every implementation prepared and checked first, then timed together.
  std::vector<std::unique_ptr<conv1d_impl>> timed;
  std::vector<std::size_t> timed_rows;
  for (auto& impl : make_all_impls()) {
    if (!options.impls.empty() &&
        std::find(options.impls.begin(), options.impls.end(), impl->name()) == options.impls.end())
      continue;
    bench_row row;
    row.shape = p.name;
    row.impl = impl->name();
    row.flops = p.flops();
    row.bytes = p.bytes();
    try {
      impl->prepare(p, options.threads);
      impl->run();
      row.max_abs_err = p.max_abs_error(impl->result());
      row.correct = row.max_abs_err <= p.tolerance();
      row.creation_ms = impl->creation_ms();
      row.note = impl->info();
      if (!row.correct)
        row.note = fmt::format("WRONG: max abs error {:.3g} > {:.3g}; {}", row.max_abs_err, p.tolerance(), row.note);
      timed_rows.push_back(rows.size());
      timed.push_back(std::move(impl));
    } catch (const impl_skipped& e) {
      row.skipped = true;
      row.note = e.what();
    } catch (const std::exception& e) {  // a library refusing the layer at run time
      row.skipped = true;
      row.note = fmt::format("failed: {}", std::string_view(e.what()).substr(0, std::string_view(e.what()).find('\n')));
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::function<void()>> runs;
  for (auto& impl : timed) runs.push_back([&impl] { impl->run(); });
  const std::vector<double> ms = interleaved_median_ms(runs, options.budget_seconds);
  for (std::size_t i = 0; i < timed.size(); ++i) {
    bench_row& row = rows[timed_rows[i]];
    row.ms = ms[i];
    row.gflops = p.flops() / row.ms * 1e-6;
  }
  apply_roofline(rows, options.threads);
  const bench_row* torch = find_row(rows, "torch");
  const bench_row* onednn_ncw = find_row(rows, "onednn-ncw");
  for (auto& r : rows) {
    if (r.skipped) continue;
    if (torch) r.x_vs_torch = torch->ms / r.ms;
    if (onednn_ncw) r.x_vs_onednn_ncw = onednn_ncw->ms / r.ms;
  }
  return rows;
}

void apply_roofline(std::vector<bench_row>& rows, int threads) {
  const machine_peak& peak = measured_peak();
  for (auto& r : rows) {
    const double compute_s = r.flops / (peak.gflops(threads) * 1e9);
    const double memory_s = r.bytes / (peak.gbs(threads, r.bytes) * 1e9);
    r.bound = memory_s > compute_s ? "memory" : "compute";
    if (!r.skipped) r.pct_peak = std::max(compute_s, memory_s) * 1e3 / r.ms * 100;
  }
}

void print_csv(const std::vector<bench_row>& rows, bool header, std::FILE* out) {
  if (header) fmt::print(out, "shape,impl,ms,gflops,pct_peak,x_vs_torch,x_vs_onednn_ncw,max_abs_err\n");
  for (const auto& r : rows) {
    if (r.skipped) continue;
    fmt::print(out, "{},{},{:.6g},{:.6g},{:.4g},{:.4g},{:.4g},{:.3g}\n", r.shape, r.impl, r.ms, r.gflops, r.pct_peak,
               r.x_vs_torch, r.x_vs_onednn_ncw, r.max_abs_err);
  }
}

void print_peak(int threads, std::FILE* out) {
  const machine_peak& p = measured_peak();
  fmt::print(out,
             "peak (measured): FMA AVX-512 {:.1f} GFLOP/s on 1 thread, {:.1f} on {}; AVX2 {:.1f} / {:.1f}; "
             "bandwidth from memory {:.1f} GB/s on 1 thread, {:.1f} on {}.\nThis run: {} thread{}. % of peak is of the "
             "roofline: the FMA peak, or the bandwidth measured at the layer's working-set size (in cache or "
             "not), whichever bounds the layer.\n",
             p.avx512_1t, p.avx512_all, p.hardware_threads, p.avx2_1t, p.avx2_all, p.bandwidth_1t, p.bandwidth_all,
             p.hardware_threads, threads, threads == 1 ? "" : "s");
}

void print_table(const std::vector<bench_row>& rows, std::FILE* out) {
  std::string last_shape;
  for (const auto& r : rows) {
    if (r.shape != last_shape) {
      fmt::print(out, "\n{}\n  {:<12} {:>10} {:>9} {:>7} {:>8} {:>10} {:>9} {:>10}  {}\n", r.shape, "impl", "ms",
                 "GFLOP/s", "%peak", "x torch", "x onednn", "max err", "create ms", "notes");
      last_shape = r.shape;
    }
    if (r.skipped) {
      fmt::print(out, "  {:<12} skipped: {}\n", r.impl, r.note);
      continue;
    }
    auto ratio = [](double x) { return x > 0 ? fmt::format("{:.2f}", x) : std::string("-"); };
    fmt::print(out, "  {:<12} {:>10.4f} {:>9.2f} {:>6.1f}% {:>8} {:>10} {:>9.2g} {:>10}  {}{}\n", r.impl, r.ms,
               r.gflops, r.pct_peak, ratio(r.x_vs_torch), ratio(r.x_vs_onednn_ncw), r.max_abs_err,
               r.creation_ms >= 0 ? fmt::format("{:.2f}", r.creation_ms) : std::string("-"), r.note,
               r.bound == "memory" ? " [memory-bound]" : "");
  }
}

void print_markdown(const std::vector<bench_row>& rows, std::FILE* out) {
  std::vector<std::string> shapes, impls;
  std::map<std::pair<std::string, std::string>, const bench_row*> cell;
  for (const auto& r : rows) {
    append_once(shapes, r.shape);
    append_once(impls, r.impl);
    cell[{r.shape, r.impl}] = &r;
  }
  fmt::print(out, "\n| layer |");
  for (const auto& i : impls) fmt::print(out, " {} |", i);
  fmt::print(out, "\n|---|");
  for (std::size_t i = 0; i < impls.size(); ++i) fmt::print(out, "---:|");
  fmt::print(out, "\n");
  for (const auto& s : shapes) {
    fmt::print(out, "| {} |", s);
    for (const auto& i : impls) {
      const bench_row* r = cell[{s, i}];
      if (!r || r->skipped) fmt::print(out, " skipped |");
      else if (!r->correct) fmt::print(out, " wrong |");
      else fmt::print(out, " {:.1f} ({:.0f}%) |", r->gflops, r->pct_peak);
    }
    fmt::print(out, "\n");
  }
}

void print_summary(const std::vector<bench_row>& rows, std::FILE* out) {
  // Geomean over the shapes both ran of baseline ms / impl ms, per impl and
  // for each baseline that ran: the JIT, and the two NCL baselines the issues name.
  const std::string baselines[] = {"xbyak", "onednn-ncw", "torch"};
  std::map<std::pair<std::string, std::string>, double> ms;  // (shape, impl)
  std::vector<std::string> order;
  int wrong = 0, skipped = 0;
  for (const auto& r : rows) {
    append_once(order, r.impl);
    skipped += r.skipped;
    wrong += !r.skipped && !r.correct;
    if (!r.skipped && r.correct) ms[{r.shape, r.impl}] = r.ms;
  }
  fmt::print(out, "\ngeomean speed-up over the suite ({} skipped, {} wrong):\n", skipped, wrong);
  for (const auto& impl : order) {
    std::string line;
    for (const auto& base : baselines) {
      if (base == impl) continue;
      double log_sum = 0;
      int n = 0;
      for (const auto& [key, impl_ms] : ms)
        if (key.second == impl)
          if (auto it = ms.find({key.first, base}); it != ms.end()) log_sum += std::log(it->second / impl_ms), ++n;
      if (n) line += fmt::format("{}x{:.2f} vs {}", line.empty() ? "" : ", ", std::exp(log_sum / n), base);
    }
    fmt::print(out, "  {:<12} {}\n", impl, line.empty() ? "(no baseline ran beside it)" : line);
  }
}

void plot(const std::vector<bench_row>& rows, int threads, const std::string& png_path) {
  std::vector<std::string> shapes, impls;
  std::map<std::pair<std::string, std::string>, double> gflops;
  for (const auto& r : rows) {
    append_once(shapes, r.shape);
    if (r.skipped || !r.correct) continue;
    append_once(impls, r.impl);
    gflops[{r.shape, r.impl}] = r.gflops;
  }
  const auto dir = std::filesystem::temp_directory_path();
  const auto data = dir / fmt::format("convjit_plot_{}.dat", getpid());
  const auto script = dir / fmt::format("convjit_plot_{}.gp", getpid());
  {
    std::ofstream d(data);
    d << "shape";
    for (const auto& i : impls) d << " \"" << i << "\"";
    d << "\n";
    for (const auto& s : shapes) {
      d << "\"" << s << "\"";
      for (const auto& i : impls) {
        auto it = gflops.find({s, i});
        d << " " << (it == gflops.end() ? std::string("NaN") : fmt::format("{:.4g}", it->second));
      }
      d << "\n";
    }
    std::ofstream g(script);
    g << fmt::format(
        "set terminal pngcairo size {},720 font 'sans,10'\n"
        "set output '{}'\n"
        "set title 'Conv1d GFLOP/s per layer, {} thread{} (higher is better; log scale)'\n"
        "set style data histogram\nset style histogram cluster gap 1\nset style fill solid 0.9 border -1\n"
        "set boxwidth 0.9\nset logscale y\nset yrange [0.1:*]\nset grid ytics\nset ylabel 'GFLOP/s'\n"
        "set xtics rotate by -35 left noenhanced\nset key top left Left reverse noenhanced\nset bmargin 9\n"
        "plot for [i=2:{}] '{}' using i:xtic(1) title columnheader(i)\n",
        std::max<std::size_t>(900, 70 * shapes.size() * 1 + 300), png_path, threads, threads == 1 ? "" : "s",
        impls.size() + 1, data.string());
  }
  const int status = std::system(fmt::format("gnuplot '{}' 2>&1", script.string()).c_str());
  std::filesystem::remove(data);
  std::filesystem::remove(script);
  if (status != 0)
    throw error(errc::io_error, "gnuplot failed or is missing (apt-get install gnuplot-nox); no plot written");
}

int bench_command(int argc, char** argv) {
  std::string spec_text, input, suite, plot_path;
  bench_options options;
  bool csv = false, markdown = false;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw error(errc::invalid_argument, fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--input") input = value();
    else if (arg == "--suite") suite = value();
    else if (arg == "--plot") plot_path = value();
    else if (arg == "--csv") csv = true;
    else if (arg == "--markdown") markdown = true;
    else if (arg == "--threads") {
      const std::string t = value();
      char* end = nullptr;
      const long n = std::strtol(t.c_str(), &end, 10);
      if (*end || n < 1 || n > 1024) throw error(errc::invalid_argument, fmt::format("--threads must be 1..1024, got '{}'", t));
      options.threads = int(n);
    } else if (arg == "--budget") {
      options.budget_seconds = std::atof(value().c_str());
      if (!(options.budget_seconds > 0)) throw error(errc::invalid_argument, "--budget must be a positive number of seconds");
    } else if (arg == "--impl") {
      std::string list = value();
      for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        options.impls.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (!arg.starts_with("--") && spec_text.empty()) spec_text = arg;
    else throw error(errc::invalid_argument, fmt::format("unexpected argument '{}'", arg));
  }
  if (suite.empty() == spec_text.empty())
    throw error(errc::invalid_argument, "usage: convjit bench \"<spec>\" --input N,C,L | --suite FILE "
                                        "[--threads T] [--csv] [--markdown] [--plot out.png] [--impl a,b] [--budget s]");
  std::vector<problem> problems;
  if (!suite.empty()) {
    for (const model_layer& l : load_model(suite)) {
      if (l.input_dims.empty())
        throw error(errc::invalid_argument, fmt::format("{}:{}: layer {} has no input shape", suite, l.line, l.name));
      problems.push_back(problem::make(l.name, l.spec, l.input_dims));
    }
  } else {
    if (input.empty()) throw error(errc::invalid_argument, "--input N,C,L is required with a spec");
    const conv1d_spec spec = parse_spec(spec_text);
    const auto dims = parse_dims(input);
    problems.push_back(problem::make(to_string(spec) + " " + format_dims(dims), spec, dims));
  }
  std::vector<bench_row> all;
  const bool progress = isatty(fileno(stderr));
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (progress) fmt::print(stderr, "\r[{}/{}] {}\x1b[K", i + 1, problems.size(), problems[i].name);
    remeasure_fma_peak(options.threads);
    auto rows = bench_problem(problems[i], options);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  if (progress) fmt::print(stderr, "\r\x1b[K");
  apply_roofline(all, options.threads);  // one roof for every row: the best peak seen
  if (csv) {
    print_csv(all, true, stdout);
  } else {
    print_peak(options.threads, stdout);
    print_table(all, stdout);
    print_summary(all, stdout);
  }
  if (markdown) print_markdown(all, stdout);
  if (!plot_path.empty()) plot(all, options.threads, plot_path);
  const bool any_wrong = std::any_of(all.begin(), all.end(), [](const bench_row& r) { return !r.skipped && !r.correct; });
  return any_wrong ? 1 : 0;
}

}  // namespace convjit::bench
