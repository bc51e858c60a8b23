// SPDX-License-Identifier: MIT
// Google Benchmark: every implementation on every layer of a shape suite, one
// thread and all threads, with GFLOP/s, GB/s and % of the measured roofline;
// creation (primitive/JIT) time per implementation; the machine's peak.
//   conv1d_bench [--suite=bench/shapes/models.txt] [Google Benchmark flags]
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <thread>

#include "bench/conv1d_impl.h"
#include "bench/peak.h"
#include "generator/error.h"
#include "generator/model.h"
#include "runtime/xbyak_jit.h"

namespace convjit::bench {
namespace {

std::unique_ptr<conv1d_impl> make_impl(const std::string& name) {
  for (auto& impl : make_all_impls())
    if (impl->name() == name) return std::move(impl);
  return nullptr;
}

// Prepares impl for p and checks one run against the reference; false (and
// the state skipped with the reason) if it cannot run or is wrong.
bool prepare_checked(benchmark::State& state, conv1d_impl& impl, const problem& p, int threads) {
  try {
    impl.prepare(p, threads);
  } catch (const impl_skipped& e) {
    state.SkipWithError(e.what());
    return false;
  }
  impl.run();
  if (p.max_abs_error(impl.result()) > p.tolerance()) {
    state.SkipWithError("output differs from the reference");
    return false;
  }
  return true;
}

void bm_conv(benchmark::State& state, const problem* p, std::string impl_name, int threads) {
  auto impl = make_impl(impl_name);
  if (!prepare_checked(state, *impl, *p, threads)) return;
  for (auto _ : state) impl->run();
  const machine_peak& peak = measured_peak();
  const double roof_seconds = std::max(p->flops() / (peak.gflops(threads) * 1e9), p->bytes() / (peak.gbs(threads, p->bytes()) * 1e9));
  state.counters["FLOPS"] = benchmark::Counter(p->flops(), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes"] = benchmark::Counter(p->bytes(), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(roof_seconds * 100, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(impl->info());
}

// What prepare() costs: primitive creation, weight packing, code generation.
void bm_create(benchmark::State& state, const problem* p, std::string impl_name) {
  double creation_ms = 0;
  for (auto _ : state) {
    auto impl = make_impl(impl_name);
    try {
      impl->prepare(*p, 1);
    } catch (const impl_skipped& e) {
      state.SkipWithError(e.what());
      return;
    }
    creation_ms = impl->creation_ms();
  }
  state.counters["creation_ms"] = creation_ms;
}

// Planning plus Xbyak generation of one layer's kernels, bypassing the cache.
void bm_codegen_xbyak(benchmark::State& state, const problem* p) {
  std::string why;
  const auto plan = convjit::make_plan(p->spec, convjit::max_isa(), &why);
  if (!plan) {
    state.SkipWithError(why.c_str());
    return;
  }
  for (auto _ : state) {
    auto fresh = convjit::make_plan(p->spec, convjit::max_isa(), &why);
    benchmark::DoNotOptimize(convjit::build_xbyak_kernel(*fresh));
  }
}

void bm_fma_peak(benchmark::State& state, simd isa, int threads) {
  double gflops = 0;
  for (auto _ : state) gflops = measure_fma_gflops(isa, threads);
  if (gflops == 0) state.SkipWithError("the host lacks this ISA");
  state.counters["GFLOPS"] = gflops;
}

void bm_bandwidth(benchmark::State& state, int threads) {
  double gbs = 0;
  for (auto _ : state) gbs = measure_bandwidth_gbs(threads, 1 << 30);
  state.counters["GBps"] = gbs;
}

}  // namespace
}  // namespace convjit::bench

int main(int argc, char** argv) {
  using namespace convjit::bench;
  std::string suite = CONVJIT_DEFAULT_SUITE;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--suite=")) suite = arg.substr(8);
    else argv[kept++] = argv[i];
  }
  argc = kept;
  static std::vector<problem> problems;
  try {
    for (const auto& l : convjit::load_model(suite))
      if (!l.input_dims.empty()) problems.push_back(problem::make(l.name, l.spec, l.input_dims));
  } catch (const convjit::error& e) {
    fmt::print(stderr, "conv1d_bench: {}\n", e.what());
    return 2;
  }
  const int hw = std::max(1, int(std::thread::hardware_concurrency()));
  for (int threads : {1, hw}) {
    benchmark::RegisterBenchmark(fmt::format("BM_fma_peak/avx512/threads:{}", threads).c_str(), bm_fma_peak,
                                 simd::avx512, threads)->Iterations(1);
    benchmark::RegisterBenchmark(fmt::format("BM_fma_peak/avx2/threads:{}", threads).c_str(), bm_fma_peak, simd::avx2,
                                 threads)->Iterations(1);
    benchmark::RegisterBenchmark(fmt::format("BM_bandwidth/threads:{}", threads).c_str(), bm_bandwidth, threads)
        ->Iterations(1);
    if (hw == 1) break;
  }
  std::vector<std::string> impls;
  for (auto& impl : make_all_impls()) impls.push_back(impl->name());
  for (const problem& p : problems) {
    for (const auto& impl : impls) {
      for (int threads : {1, hw}) {
        benchmark::RegisterBenchmark(fmt::format("BM_{}/{}/threads:{}", impl, p.name, threads).c_str(), bm_conv, &p,
                                     impl, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        if (hw == 1) break;
      }
      if (impl == "xbyak")
        benchmark::RegisterBenchmark(fmt::format("BM_codegen/xbyak/{}", p.name).c_str(), bm_codegen_xbyak, &p)
            ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(fmt::format("BM_create/{}/{}", impl, p.name).c_str(), bm_create, &p, impl)
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
