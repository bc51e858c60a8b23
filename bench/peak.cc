// SPDX-License-Identifier: MIT
// FMA and bandwidth microbenchmarks.
#include "bench/peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <cstring>
#include <thread>
#include <vector>

namespace convjit::bench {
namespace {

// acc = acc * a + b on independent chains: enough of them to cover the FMA
// latency on both ports; a and b keep the values bounded (fixed point 1).
volatile float chain_a = 0.99999f, chain_b = 1e-5f;
volatile float sink;

// 16 chains of 16 lanes: 512 FLOPs per iteration.
__attribute__((target("avx512f"))) void fma_avx512(long iterations) {
  const __m512 a = _mm512_set1_ps(chain_a), b = _mm512_set1_ps(chain_b);
  __m512 acc[16];
  for (int j = 0; j < 16; ++j) acc[j] = _mm512_set1_ps(float(j));
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  for (int j = 1; j < 16; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc[0]);
  sink = lanes[0];
}

// 12 chains of 8 lanes: 192 FLOPs per iteration.
__attribute__((target("avx2,fma"))) void fma_avx2(long iterations) {
  const __m256 a = _mm256_set1_ps(chain_a), b = _mm256_set1_ps(chain_b);
  __m256 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(float(j));
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  for (int j = 1; j < 12; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc[0]);
  sink = lanes[0];
}

// Streams n floats through 8 independent adds (the loop is load-bound).
__attribute__((target("avx512f"))) float sum_floats(const float* data, std::size_t n) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (std::size_t i = 0; i + 128 <= n; i += 128)
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(data + i + 16 * j));
  for (int j = 1; j < 8; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc[0]);
  return lanes[0];
}

// Seconds for `threads` threads each running body(), started together.
template <class F>
double wall_seconds(int threads, F body) {
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { body(t); });
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

double measure_fma_gflops(simd isa, int threads) {
  __builtin_cpu_init();
  const bool avx512 = isa == simd::avx512;
  if (avx512 ? !__builtin_cpu_supports("avx512f") : !__builtin_cpu_supports("fma")) return 0;
  const double flops_per_iteration = avx512 ? 512 : 192;
  const long iterations = avx512 ? 2'000'000 : 4'000'000;  // about 15 ms per thread
  double best = 0;
  for (int rep = 0; rep < 12; ++rep) {  // the best of many: turbo and neighbours move it
    const double s = wall_seconds(threads, [&](int) { avx512 ? fma_avx512(iterations) : fma_avx2(iterations); });
    best = std::max(best, flops_per_iteration * double(iterations) * threads / s * 1e-9);
  }
  return best;
}

double measure_bandwidth_gbs(int threads, double working_set_bytes) {
  const auto share = std::max<std::size_t>(8192, std::size_t(working_set_bytes / threads)) / 64 * 64;
  const int passes = int(std::max<std::size_t>(1, (256u << 20) / share));  // about 256 MiB moved per thread
  std::vector<std::vector<float>> buffers(static_cast<std::size_t>(threads));
  wall_seconds(threads, [&](int t) {  // first touch on the thread that uses the memory
    buffers[static_cast<std::size_t>(t)].assign(share / sizeof(float), 1.0f);
  });
  // A layer reads, writes or both: the roof is the best of the three.
  enum class traffic { read, write, copy };
  double best = 0;
  for (traffic kind : {traffic::read, traffic::write, traffic::copy}) {
    for (int rep = 0; rep < 3; ++rep) {
      const double s = wall_seconds(threads, [&](int t) {
        float* data = buffers[static_cast<std::size_t>(t)].data();
        const std::size_t n = share / sizeof(float);
        for (int p = 0; p < passes; ++p) {
          if (kind == traffic::read) sink = sum_floats(data, n);
          else if (kind == traffic::write) std::memset(data, p & 1, n * sizeof(float));
          else std::memcpy(data + n / 2, data, n / 2 * sizeof(float));
        }
      });
      best = std::max(best, double(share) * passes * threads / s * 1e-9);
    }
  }
  return best;
}

double machine_peak::gbs(int threads, double working_set_bytes) const {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, double> measured;  // (threads, log2 size) -> GB/s
  const int log2_size = std::clamp(int(std::lround(std::log2(std::max(working_set_bytes, 1.0)))), 16, 30);
  std::lock_guard lock(mutex);
  auto [it, added] = measured.try_emplace({threads, log2_size}, 0.0);
  // A working set never streams slower than memory: a sample below that is noise.
  if (added) it->second = std::max(measure_bandwidth_gbs(threads, std::ldexp(1.0, log2_size)),
                                   threads > 1 ? bandwidth_all : bandwidth_1t);
  return it->second;
}

double machine_peak::gflops(int t) const {
  if (t > 1) return avx512_all > 0 ? avx512_all : avx2_all;
  return avx512_1t > 0 ? avx512_1t : avx2_1t;
}

void remeasure_fma_peak(int threads) {
  machine_peak& p = measured_peak();
  if (threads > 1) {
    p.avx512_all = std::max(p.avx512_all, measure_fma_gflops(simd::avx512, threads));
    p.avx2_all = std::max(p.avx2_all, measure_fma_gflops(simd::avx2, threads));
  } else {
    p.avx512_1t = std::max(p.avx512_1t, measure_fma_gflops(simd::avx512, 1));
    p.avx2_1t = std::max(p.avx2_1t, measure_fma_gflops(simd::avx2, 1));
  }
}

machine_peak& measured_peak() {
  static machine_peak peak = [] {
    machine_peak p;
    p.hardware_threads = std::max(1, int(std::thread::hardware_concurrency()));
    p.avx512_1t = measure_fma_gflops(simd::avx512, 1);
    p.avx512_all = measure_fma_gflops(simd::avx512, p.hardware_threads);
    p.avx2_1t = measure_fma_gflops(simd::avx2, 1);
    p.avx2_all = measure_fma_gflops(simd::avx2, p.hardware_threads);
    p.bandwidth_1t = measure_bandwidth_gbs(1, 1 << 30);
    p.bandwidth_all = measure_bandwidth_gbs(p.hardware_threads, 1 << 30);
    return p;
  }();
  return peak;
}

}  // namespace convjit::bench
