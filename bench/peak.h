// SPDX-License-Identifier: MIT
// The machine's measured peak: FMA throughput and memory bandwidth.
#pragma once

namespace convjit::bench {

enum class simd { avx2, avx512 };

/** FLOP/s of independent FMA chains on `threads` threads, in GFLOP/s; 0 if the
 * host lacks the ISA. */
double measure_fma_gflops(simd isa, int threads);

/** Memory bandwidth in GB/s over a working set of `working_set_bytes` split
 * among the threads (in cache for small sets, from memory for large ones): the
 * best of streaming reads, streaming writes and copies (read + written bytes). */
double measure_bandwidth_gbs(int threads, double working_set_bytes);

struct machine_peak {
  int hardware_threads = 1;
  double avx512_1t = 0, avx512_all = 0, avx2_1t = 0, avx2_all = 0;  // GFLOP/s
  double bandwidth_1t = 0, bandwidth_all = 0;                       // GB/s over 1 GiB
  /** The best FMA peak for a run on `threads` threads. */
  double gflops(int threads) const;
  /** The memory roof for a working set of this size: its measured bandwidth,
   * so data that stays in cache between runs is judged by the cache's speed
   * (measured once per power-of-two size, the nearest one). */
  double gbs(int threads, double working_set_bytes) const;
};

/** Measures everything above once (about a second), cached for the process. */
machine_peak& measured_peak();

/** Measures the FMA peak on `threads` threads again and keeps the best: the
 * clock of a shared machine drifts, and a peak below what a kernel sustains
 * would report more than 100%. */
void remeasure_fma_peak(int threads);

}  // namespace convjit::bench
