// SPDX-License-Identifier: MIT
// The `convjit` command line: explain, run and model.
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "generator/emit_cpp.h"
#include "generator/model.h"
#include "runtime/conv1d.h"
#include "runtime/explain.h"
#include "runtime/jit_dump.h"
#include "runtime/kernel.h"
#include "runtime/llvm_jit.h"

namespace convjit {
namespace {

constexpr int kExitError = 2;  // bad spec, shape, file or usage: the contract says 2

constexpr std::string_view kUsage = R"usage(usage:
  convjit explain "<spec>" [--input N,C,L | C,L]
  convjit run "<spec>" --input-shape N,C,L --input x.bin --weight w.bin [--bias b.bin]
              --output y.bin [--backend reference|xbyak|llvm|aot] [--isa avx512|avx2]
  convjit model FILE [--backend NAME]
  convjit gen FILE --out DIR [--isa avx512,avx2,scalar] [--namespace ID]
  convjit asm "<spec>" [--backend xbyak|llvm] [--isa avx512|avx2|scalar]
  convjit bench "<spec>" --input N,C,L [--threads T] [--csv] [--impl a,b] [--budget s]
  convjit bench --suite FILE [--threads T] [--csv] [--markdown] [--plot out.png]
<spec> is the PyTorch spelling, e.g. "Conv1d(40, 10, 3, stride=2, padding=3)" or
print(model)'s "Conv1d(80, 384, kernel_size=(3,), stride=(2,), padding=(1,))".
Tensors are raw little-endian float32, row-major.
)usage";

// argv after the command: one positional argument, then --flag value pairs.
struct command_line {
  std::string positional;
  std::map<std::string, std::string, std::less<>> flags;

  std::string get(std::string_view flag) const {
    auto it = flags.find(flag);
    if (it == flags.end()) throw error(errc::invalid_argument, fmt::format("missing --{}\n{}", flag, kUsage));
    return it->second;
  }
  std::string get_or(std::string_view flag, std::string fallback) const {
    auto it = flags.find(flag);
    return it == flags.end() ? fallback : it->second;
  }
};

command_line parse_command_line(int argc, char** argv, std::initializer_list<std::string_view> known) {
  command_line cl;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--")) {
      arg.remove_prefix(2);
      if (std::find(known.begin(), known.end(), arg) == known.end())
        throw error(errc::invalid_argument, fmt::format("unknown option --{}\n{}", arg, kUsage));
      if (i + 1 >= argc) throw error(errc::invalid_argument, fmt::format("--{} needs a value", arg));
      cl.flags[std::string(arg)] = argv[++i];
    } else if (cl.positional.empty()) {
      cl.positional = arg;
    } else {
      throw error(errc::invalid_argument, fmt::format("unexpected argument '{}'\n{}", arg, kUsage));
    }
  }
  if (cl.positional.empty()) throw error(errc::invalid_argument, fmt::format("missing argument\n{}", kUsage));
  return cl;
}

std::vector<float> read_floats(const std::string& path, std::int64_t expected, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io_error, fmt::format("cannot read {} file '{}'", what, path));
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) throw error(errc::io_error, fmt::format("cannot size {} file '{}': {}", what, path, ec.message()));
  if (bytes != std::uintmax_t(expected) * sizeof(float))
    throw error(errc::buffer_size_mismatch,
                fmt::format("{} file '{}' has {} bytes, but the {} needs {} floats ({} bytes)", what, path, bytes, what,
                            expected, expected * std::int64_t{sizeof(float)}));
  std::vector<float> data(static_cast<std::size_t>(expected));
  in.read(reinterpret_cast<char*>(data.data()), std::streamsize(bytes));
  if (!in) throw error(errc::io_error, fmt::format("short read from {} file '{}'", what, path));
  return data;
}

// Written beside the target and renamed, so a failure leaves no output file.
void write_floats(const std::string& path, const std::vector<float>& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * sizeof(float)));
    if (!out) throw error(errc::io_error, fmt::format("cannot write output file '{}'", path));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw error(errc::io_error, fmt::format("cannot write output file '{}': {}", path, ec.message()));
}

conv1d_options options_from(const command_line& cl) {
  conv1d_options options;
  if (auto it = cl.flags.find("backend"); it != cl.flags.end()) options.force_backend = parse_backend(it->second);
  if (auto it = cl.flags.find("isa"); it != cl.flags.end()) options.max_isa = parse_isa(it->second);
  return options;
}

// The plan and the disassembly of the kernels a layer runs.
int run_asm(int argc, char** argv) {
  const auto cl = parse_command_line(argc, argv, {"backend", "isa"});
  const conv1d_spec spec = parse_spec(cl.positional);
  conv1d_options options = options_from(cl);
  if (!options.force_backend) options.force_backend = backend::xbyak;
  const auto layer = conv1d::create(spec, std::vector<float>(std::size_t(spec.weight_count())),
                                    std::vector<float>(std::size_t(spec.bias_count())), options);
  const kernel& k = layer.compiled();
  if (!k.plan) throw error(errc::backend_unavailable, fmt::format("backend '{}' generates no code", backend_name(k.from)));
  if (k.from == backend::aot)
    throw error(errc::backend_unavailable, fmt::format("{} is compiled into this program; `convjit gen` writes its source",
                                                       k.name));
  if (k.from == backend::llvm) {
#ifdef CONVJIT_HAVE_LLVM
    std::string why;
    const std::string ir = llvm_kernel_ir(*k.plan, &why);
    if (ir.empty()) throw error(errc::backend_unavailable, why);
    fmt::print("{}\n{}\n{} entry points, compiled in {:.0f} us\n\nLLVM IR, optimized, as the JIT compiles it:\n{}\n"
               "Machine code ({} bytes of object file):\n{}",
               k.name, k.plan->describe(), k.entries.size(), k.build_us, ir, k.code.size(), disassemble_object(k.code));
#endif
    return 0;
  }
  const auto variants = k.plan->variants();
  fmt::print("{}\n{}\n{} entry points, {} bytes of code, generated in {:.0f} us\n", k.name, k.plan->describe(),
             variants.size(), k.code.size(), k.build_us);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const std::size_t end = i + 1 < variants.size() ? k.entry_offsets[i + 1] : k.code.size();
    fmt::print("\n{}_{}:\n{}", k.name, variants[i].name(),
               disassemble(std::span(k.code).subspan(k.entry_offsets[i], end - k.entry_offsets[i])));
  }
  return 0;
}

int run_explain(int argc, char** argv) {
  const auto cl = parse_command_line(argc, argv, {"input"});
  const conv1d_spec spec = parse_spec(cl.positional);
  std::vector<std::int64_t> dims;
  if (cl.flags.contains("input")) dims = parse_dims(cl.get("input"));
  fmt::print("{}", explain(spec, dims));
  return 0;
}

int run_run(int argc, char** argv) {
  const auto cl =
      parse_command_line(argc, argv, {"input-shape", "input", "weight", "bias", "output", "backend", "isa"});
  const conv1d_spec spec = parse_spec(cl.positional);
  const auto dims = parse_dims(cl.get("input-shape"));
  const ncl_shape in = check_input(spec, dims);
  const ncl_shape out = output_shape(spec, in);
  const std::string output_path = cl.get("output");
  const auto x = read_floats(cl.get("input"), in.count(), "input");
  const auto w = read_floats(cl.get("weight"), spec.weight_count(), "weight");
  std::vector<float> b;
  if (cl.flags.contains("bias")) {
    if (!spec.bias) throw error(errc::bias_mismatch, fmt::format("{} has bias=False, but --bias was given", to_string(spec)));
    b = read_floats(cl.get("bias"), spec.out_channels, "bias");
  } else if (spec.bias) {
    throw error(errc::bias_mismatch, fmt::format("{} has a bias: pass --bias b.bin ({} floats)", to_string(spec),
                                                 spec.out_channels));
  }
  const auto layer = conv1d::create(spec, w, b, options_from(cl));
  std::vector<float> y(static_cast<std::size_t>(out.count()));
  layer.forward(x, dims, y);
  write_floats(output_path, y);
  fmt::print("{}\n", format_dims(out.dims()));
  return 0;
}

// The main job: explain every layer of a model and run it on made-up data.
int run_model(int argc, char** argv) {
  const auto cl = parse_command_line(argc, argv, {"backend", "isa"});
  const auto layers = load_model(cl.positional);
  const conv1d_options options = options_from(cl);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto random = [&](std::int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& f : v) f = uniform(rng);
    return v;
  };
  fmt::print("{}: {}\n", cl.positional, layers.size() == 1 ? "1 layer" : fmt::format("{} layers", layers.size()));
  for (const model_layer& l : layers) {
    fmt::print("\n== {} (line {}) ==\n{}", l.name, l.line, explain(l.spec, l.input_dims));
    if (l.input_dims.empty()) {
      fmt::print("(no input shape given: not run)\n");
      continue;
    }
    const ncl_shape in = check_input(l.spec, l.input_dims);
    const auto layer = conv1d::create(l.spec, random(l.spec.weight_count()), random(l.spec.bias_count()), options);
    const auto x = random(in.count());
    std::vector<float> y(static_cast<std::size_t>(layer.output_count(l.input_dims)));
    const auto start = std::chrono::steady_clock::now();
    layer.forward(x, l.input_dims, y);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    double sum = 0;
    for (float v : y) sum += v;
    fmt::print("ran {}: output {} in {:.3f} ms ({:.2f} GFLOP/s), sum of outputs {:.6g}\n",
               layer.kernel_name(), format_dims(layer.output_dims(l.input_dims)), ms,
               conv1d_flops(l.spec, in) / ms * 1e-6, sum);
  }
  return 0;
}

// Ahead-of-time kernels for a model: the C++ sources a build compiles in
// (cmake/convjit_add_model.cmake). Files whose text is unchanged are left
// alone, so a rebuild recompiles only what changed.
int run_gen(int argc, char** argv) {
  const auto cl = parse_command_line(argc, argv, {"out", "isa", "namespace"});
  const auto layers = load_model(cl.positional);
  const std::filesystem::path out = cl.get("out");
  std::vector<isa> targets;
  const std::string isa_list = cl.get_or("isa", "avx512,avx2,scalar");
  std::string_view isas = isa_list;
  while (!isas.empty()) {
    const std::size_t comma = std::min(isas.find(','), isas.size());
    targets.push_back(parse_isa(isas.substr(0, comma)));
    isas.remove_prefix(std::min(comma + 1, isas.size()));
  }
  const std::string id = cl.get_or("namespace", model_identifier(cl.positional));
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id.front())) ||
      !std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
    throw error(errc::invalid_argument, fmt::format("--namespace '{}' is not a C++ identifier", id));
  std::vector<std::string> notes;
  const auto files = emit_cpp_model(layers, std::filesystem::path(cl.positional).filename().string(), id, targets, &notes);

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw error(errc::io_error, fmt::format("cannot create '{}': {}", out.string(), ec.message()));
  int written = 0;
  for (const generated_file& f : files) {
    const auto path = out / f.name;
    std::ifstream existing(path, std::ios::binary);
    const std::string old((std::istreambuf_iterator<char>(existing)), std::istreambuf_iterator<char>());
    if (existing && old == f.text) continue;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << f.text;
    if (!file) throw error(errc::io_error, fmt::format("cannot write '{}'", path.string()));
    ++written;
  }
  for (const std::string& note : notes) fmt::print("note: {}\n", note);
  fmt::print("{}: {} layers, {} files in {} ({} changed)\n", cl.positional, layers.size(), files.size(), out.string(),
             written);
  return 0;
}

// `convjit bench` lives in libconvjit_bench.so beside this executable, loaded
// only here so that the baselines' libraries never slow the other commands.
int run_bench(int argc, char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string path = (self.parent_path() / "libconvjit_bench.so").string();
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module)
    throw error(errc::backend_unavailable,
                fmt::format("convjit bench needs {} (built with CONVJIT_BUILD_BENCH=ON): {}", path, dlerror()));
  using bench_main_fn = int (*)(int, char**);
  auto bench_main = reinterpret_cast<bench_main_fn>(dlsym(module, "convjit_bench_main"));
  if (!bench_main) throw error(errc::backend_unavailable, fmt::format("{} has no convjit_bench_main", path));
  return bench_main(argc - 2, argv + 2);
}

}  // namespace
}  // namespace convjit

int main(int argc, char** argv) {
  using namespace convjit;
  const std::string_view command = argc > 1 ? argv[1] : "";
  try {
    if (command == "explain") return run_explain(argc, argv);
    if (command == "run") return run_run(argc, argv);
    if (command == "model") return run_model(argc, argv);
    if (command == "asm") return run_asm(argc, argv);
    if (command == "gen") return run_gen(argc, argv);
    if (command == "bench") return run_bench(argc, argv);
    if (command == "help" || command == "--help" || command == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    fmt::print(stderr, "convjit: error: invalid_argument: unknown command '{}'\n{}", command, kUsage);
    return kExitError;
  } catch (const error& e) {
    fmt::print(stderr, "convjit: error: {}: {}\n", errc_name(e.code()), e.what());
    return kExitError;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "convjit: error: {}: not enough memory for these tensors\n", errc_name(errc::size_overflow));
    return kExitError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "convjit: internal error: {}\n", e.what());
    return 1;
  }
}
