// SPDX-License-Identifier: MIT
// The driver.
#include "runtime/driver.h"

#include <omp.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#  include <immintrin.h>
#  define CONVJIT_X86_TRANSPOSES 1  // per-function targets: the driver itself stays baseline x86
#endif

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

namespace convjit {
namespace {

// Below this many FLOPs a thread, another thread costs more than it saves:
// the kernels now take a few microseconds for what a second thread's start
// and join cost. conv1d_bench BM_xbyak/seed.*/threads:2 on the Zen 5, three
// rounds alternating with 1.5e5: seed.pad1 (0.38 MFLOP) 0.011-0.014 ->
// 0.006-0.009 ms and seed.pointwise (0.64) 0.009-0.011 -> 0.004, now on one
// thread as at threads:1; seed.k3 (1.7) and seed.stride2 (5.0) keep two and
// within noise. (At 1.5e5, measured when these kernels were 2 to 4 times
// slower, two threads had gained on seed.pad1 and seed.pointwise.)
constexpr double kFlopsPerThread = 5e5;
// FMAs a position-tile call does at least to prefetch the next call's output
// (rows x lines prefetches, a few percent of such a call's instructions).
constexpr std::int64_t kPrefetchCallFmas = 1024;
// Input rows a call reads at least to prefetch the next tile's input: the
// hardware prefetchers follow a few streams on their own (stereo.long, 2 rows,
// with abe1b4f: 2.38-2.40 -> 2.23-2.28 ms, conv1d_bench medians; the seed
// layers and wav2vec2.conv0 unchanged).
constexpr std::int64_t kPrefetchedInputRows = 16;
// Outputs per lane-tile item: its transposed window and outputs stay in L1,
// with room to spare (measured against 256 and 512: convnext1d k15 0.82 ->
// 0.75 ms, conformer k31 0.222 -> 0.212 ms; 64 is slower again).
constexpr std::int64_t kLaneChunkOutputs = 128;
// A thread's share of this many items is balanced enough: a thread with one
// item more does 1% more. Fewer, and the output-channel blocks split into
// parts too, each thread reading every tile's input but for its blocks
// (conv1d_bench medians on two threads, three alternating rounds against
// splitting only below 4 items a thread: conformer.pointwise, 21 tiles,
// 0.552-0.557 -> 0.532-0.538 ms; wav2vec2.conv0, 67, 0.088-0.092 ->
// 0.085-0.087; wav2vec2.conv3, whisper.conv1 and the seed layers within noise).
constexpr std::int64_t kBalancedShareItems = 100;
// Dot columns copied per pass over weights beyond L2 (the plan's
// dot_rows_outer): they stay in L2 beside a block of rows.
constexpr std::int64_t kDotColumnBytes = 512 * 1024;

// An output this large leaves the last-level cache anyway (32 MiB: a Zen 4 or 5
// CCD's L3, more than most Intel cores' share). stereo.long's 64 MiB output
// stored past the caches: 3.17-3.38 -> 2.47-2.55 ms on one thread (conv1d_bench
// medians); a 32 MiB one was slower so on two threads, which kept part of it
// in L3 for the next call (a scratch forward loop).
constexpr std::int64_t kStreamOutputBytes = std::int64_t{32} << 20;

// Runs `team`, the body of a parallel region (per-thread setup, then
// worksharing loops), on `threads` threads. One thread runs it here, outside
// any region, its loops orphaned: libgomp's team of one still makes a futex
// call at each barrier (seed.depthwise_k49: two a call, 10% of its time).
template <class Team>
void run_team(int threads, const Team& team) {
  if (threads <= 1) return team();
#pragma omp parallel num_threads(threads)
  team();
}

// A block's variants of `counts` vectors (or positions), looked up once a
// layer call rather than once a kernel call: [count - 1], the counts the plan
// has no variant for null. `lookup` finds a count's variant in k.entries.
template <class Lookup>
std::vector<conv1d_kernel_fn> entries_by_count(const kernel& k, const std::vector<int>& counts, const Lookup& lookup) {
  std::vector<conv1d_kernel_fn> entries(counts.empty() ? 0 : std::size_t(counts.back()), nullptr);
  for (int count : counts) entries[std::size_t(count - 1)] = k.entries[std::size_t(lookup(count))];
  return entries;
}

// How many parts each of `items` (equal work) splits its `blocks` (of output
// channels) into, so that `threads` threads get equal shares: 1 when the
// items divide evenly or are many, else the fewest parts that divide evenly,
// or leave each thread kBalancedShareItems (3 items on 2 threads would leave
// one idle a third of the time; 6 parts do not).
std::int64_t block_parts_for(int threads, std::int64_t items, std::int64_t blocks) {
  items = std::max<std::int64_t>(items, 1);
  std::int64_t parts = (threads + items - 1) / items;
  while (parts < blocks && items * parts % threads != 0 && items * parts < kBalancedShareItems * threads) ++parts;
  return std::clamp<std::int64_t>(parts, 1, blocks);
}

// Window rows and partial tiles are short (often under 16 floats): inline
// copies, where a memset or memcpy call would cost more than the copying.
void copy_floats(const float* from, std::int64_t count, float* to) {
  std::int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= count; i += 4) _mm_storeu_ps(to + i, _mm_loadu_ps(from + i));
#endif
  for (; i < count; ++i) to[i] = from[i];
}

void zero_floats(std::int64_t count, float* to) {
  std::int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= count; i += 4) _mm_storeu_ps(to + i, _mm_setzero_ps());
#endif
  for (; i < count; ++i) to[i] = 0.0f;
}

#if CONVJIT_X86_TRANSPOSES
// The mask of a vector's first n lanes (none for n <= 0, all for n >= 16).
__mmask16 first_lanes16(std::int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// copy_floats a vector at a time, the tail masked: a 49-float window row or
// dot column in 4 loads and stores instead of 12 and a tail loop (seed.k3,
// 239 short windowed rows a call: 0.041 -> 0.037 ms).
__attribute__((target("avx512f"))) void copy_floats_avx512(const float* from, std::int64_t count, float* to) {
  for (std::int64_t i = 0; i < count; i += 16) {
    const __mmask16 lanes = first_lanes16(count - i);
    _mm512_mask_storeu_ps(to + i, lanes, _mm512_maskz_loadu_ps(lanes, from + i));
  }
}

// A dot column: `count` floats, then zeros up to `padded`, every whole
// vector stored unmasked where the kernel loads it. Zen 4 forwards no masked
// store to a load, which then waits about 25 cycles for the store to reach L1
// (seed.depthwise_k49, a dot per 49-float row: 0.025-0.029 -> 0.021-0.027 ms
// against the masked copy and a zero fill). Only a `padded` off the vector
// grid (a dot tile with rows in lanes pads nothing) ends in a masked store,
// never past it.
__attribute__((target("avx512f"))) void copy_padded_avx512(const float* from, std::int64_t count,
                                                           std::int64_t padded, float* to) {
  for (std::int64_t i = 0; i < padded; i += 16) {
    const __m512 floats = _mm512_maskz_loadu_ps(first_lanes16(count - i), from + i);  // zeros past count
    if (i + 16 <= padded) _mm512_storeu_ps(to + i, floats);
    else _mm512_mask_storeu_ps(to + i, first_lanes16(padded - i), floats);
  }
}
#endif

// copy_padded_avx512 for any target.
void copy_padded(const float* from, std::int64_t count, std::int64_t padded, float* to) {
  copy_floats(from, count, to);
  zero_floats(padded - count, to + count);
}

// How the driver copies rows for a plan: AVX-512 plans with copy_floats_avx512
// (it follows the plan, so CONVJIT_MAX_ISA caps the driver too).
using copy_function = void (*)(const float* from, std::int64_t count, float* to);
copy_function copy_for(isa target) {
#if CONVJIT_X86_TRANSPOSES
  if (target == isa::avx512) return copy_floats_avx512;
#else
  (void)target;
#endif
  return copy_floats;
}

// Every step-th float: from[0], from[step], ... (count of them), never
// reading past the last.
void copy_strided(const float* from, std::int64_t step, std::int64_t count, float* to) {
  std::int64_t m = 0;
#if defined(__SSE2__)
  if (step == 2)  // the common stride: even elements, four at a time
    for (; 2 * m + 8 <= 2 * count - 1; m += 4)  // reads from[2m .. 2m + 7], the last at 2 * count - 2
      _mm_storeu_ps(to + m, _mm_shuffle_ps(_mm_loadu_ps(from + 2 * m), _mm_loadu_ps(from + 2 * m + 4), _MM_SHUFFLE(2, 0, 2, 0)));
#endif
  for (; m < count; ++m) to[m] = from[m * step];
}

#if CONVJIT_X86_TRANSPOSES
// copy_strided a vector at a time for stride 2, the common one: two vectors'
// even lanes permuted into one (seed.stride2, whose phase windows took a third
// of the layer four floats at a time: 0.058-0.060 -> 0.050-0.051 ms; its zero
// padding now takes deinterleave_zero_padded_avx512, the other padding modes
// this). The last vectors' loads masked at the last float.
__attribute__((target("avx512f"))) void copy_strided_avx512(const float* from, std::int64_t step, std::int64_t count,
                                                            float* to) {
  if (step != 2) return copy_strided(from, step, count, to);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const std::int64_t span = 2 * count - 1;  // floats from `from` to the last one read
  std::int64_t m = 0;
  for (; 2 * m + 32 <= span; m += 16)
    _mm512_storeu_ps(to + m, _mm512_permutex2var_ps(_mm512_loadu_ps(from + 2 * m), even, _mm512_loadu_ps(from + 2 * m + 16)));
  for (; m < count; m += 16) {
    const __m512 low = _mm512_maskz_loadu_ps(first_lanes16(span - 2 * m), from + 2 * m);
    const __m512 high = _mm512_maskz_loadu_ps(first_lanes16(span - 2 * m - 16), from + 2 * m + 16);
    _mm512_mask_storeu_ps(to + m, first_lanes16(count - m), _mm512_permutex2var_ps(low, even, high));
  }
}
#endif

// Both phase rows of stride 2 with zero padding, each whole in one pass:
// even[m] = x[first + 2m] and odd[m] = x[first + 2m + 1] for m < count, zero
// where that position lies outside [0, l_in); stores may run on up to `room`
// floats. Per vector of each phase: two masked loads, two permutes, two stores,
// where copy_strided per phase took a call per run of each row (seed.stride2
// on Zen 4, `convjit bench`, three alternating rounds: 55-57 -> 64-65 GFLOP/s,
// capped at AVX2 36 -> 43.5).
// Null where the target has no such function.
using zero_padded_deinterleave_function = void (*)(const float* x, std::int64_t l_in, std::int64_t first,
                                                   std::int64_t count, std::int64_t room, float* even, float* odd);

#if CONVJIT_X86_TRANSPOSES
// The address of x[at], formed in integers: `at` may lie before x, for a
// masked load that reads none of the lanes there.
const float* address_of(const float* x, std::int64_t at) {
  return reinterpret_cast<const float*>(reinterpret_cast<std::uintptr_t>(x) + std::uintptr_t(at) * sizeof(float));
}

__attribute__((target("avx512f"))) __m512 load_inside_avx512(const float* x, std::int64_t l_in, std::int64_t at) {
  return _mm512_maskz_loadu_ps(__mmask16(first_lanes16(l_in - at) & ~first_lanes16(-at)), address_of(x, at));
}

__attribute__((target("avx512f"))) void deinterleave_zero_padded_avx512(const float* x, std::int64_t l_in,
                                                                        std::int64_t first, std::int64_t count,
                                                                        std::int64_t room, float* even, float* odd) {
  const __m512i even_lanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd_lanes = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (std::int64_t m = 0; m < count; m += 16) {
    const std::int64_t at = first + 2 * m;
    const __m512 low = load_inside_avx512(x, l_in, at), high = load_inside_avx512(x, l_in, at + 16);
    const __mmask16 lanes = first_lanes16(room - m);
    _mm512_mask_storeu_ps(even + m, lanes, _mm512_permutex2var_ps(low, even_lanes, high));
    _mm512_mask_storeu_ps(odd + m, lanes, _mm512_permutex2var_ps(low, odd_lanes, high));
  }
}

// The lanes i of 8 with from <= i < to, as AVX2's masked moves take them.
__attribute__((target("avx2"))) __m256i lanes_between_avx2(std::int64_t from, std::int64_t to) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i below_to = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::clamp<std::int64_t>(to, 0, 8))), lane);
  const __m256i below_from = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::clamp<std::int64_t>(from, 0, 8))), lane);
  return _mm256_andnot_si256(below_from, below_to);
}

// x[at .. at + 8), zero outside [0, l_in): a plain load where the input
// holds all 8 (AVX2's masked load costs more, and a mask to build).
__attribute__((target("avx2"))) __m256 load_inside_avx2(const float* x, std::int64_t l_in, std::int64_t at) {
  if (at >= 0 && at + 8 <= l_in) return _mm256_loadu_ps(x + at);
  return _mm256_maskload_ps(address_of(x, at), lanes_between_avx2(-at, l_in - at));
}

__attribute__((target("avx2"))) void deinterleave_zero_padded_avx2(const float* x, std::int64_t l_in,
                                                                   std::int64_t first, std::int64_t count,
                                                                   std::int64_t room, float* even, float* odd) {
  for (std::int64_t m = 0; m < count; m += 8) {
    const std::int64_t at = first + 2 * m;
    const __m256 low = load_inside_avx2(x, l_in, at), high = load_inside_avx2(x, l_in, at + 8);
    // In-lane shuffles leave each phase's halves crossed: 0 2 8 10 | 4 6 12 14.
    const __m256 even_positions =
        _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(low, high, 0x88)), 0xd8));
    const __m256 odd_positions =
        _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(low, high, 0xdd)), 0xd8));
    if (m + 8 <= room) {
      _mm256_storeu_ps(even + m, even_positions);
      _mm256_storeu_ps(odd + m, odd_positions);
    } else {  // through a buffer: AVX2's masked store is microcoded on AMD, 16 cycles or more
      alignas(32) float buffer[2][8];
      _mm256_store_ps(buffer[0], even_positions);
      _mm256_store_ps(buffer[1], odd_positions);
      for (std::int64_t i = 0; i < room - m; ++i) even[m + i] = buffer[0][i], odd[m + i] = buffer[1][i];
    }
  }
}
#endif

zero_padded_deinterleave_function zero_padded_deinterleave_for(isa target) {
#if CONVJIT_X86_TRANSPOSES
  if (target == isa::avx512) return deinterleave_zero_padded_avx512;
  if (target == isa::avx2) return deinterleave_zero_padded_avx2;
#else
  (void)target;
#endif
  return nullptr;
}

using strided_copy_function = void (*)(const float* from, std::int64_t step, std::int64_t count, float* to);
strided_copy_function strided_copy_for(isa target) {
#if CONVJIT_X86_TRANSPOSES
  if (target == isa::avx512) return copy_strided_avx512;
#else
  (void)target;
#endif
  return copy_strided;
}

using padded_copy_function = void (*)(const float* from, std::int64_t count, std::int64_t padded, float* to);
padded_copy_function padded_copy_for(isa target) {
#if CONVJIT_X86_TRANSPOSES
  if (target == isa::avx512) return copy_padded_avx512;
#else
  (void)target;
#endif
  return copy_padded;
}

// A window row: the inputs at positions start, start + step, ... (count of
// them) of one input row, the padding mode applied. In that order they fall
// into five runs, the same for every channel: past the padding (zero), left
// padding, the input itself (copied), right padding, past the padding again
// (zero: only outputs beyond L_out read them).
struct window_row_runs {
  std::int64_t start, step, count;
  std::int64_t pad_left, input, pad_right, beyond;  // where each run after the first begins

  window_row_runs(const conv1d_spec& s, std::int64_t l_in, std::int64_t first, std::int64_t stride, std::int64_t n)
      : start(first), step(stride), count(n) {
    auto first_at_or_after = [&](std::int64_t position) {
      const std::int64_t ahead = position - start;  // stride 1, the common case, needs no division
      return std::clamp<std::int64_t>(step == 1 ? ahead : (ahead + step - 1) / step, 0, count);
    };
    pad_left = first_at_or_after(-s.pad_left());
    input = std::max(pad_left, first_at_or_after(0));
    pad_right = std::max(input, first_at_or_after(l_in));
    beyond = std::max(pad_right, first_at_or_after(l_in + s.pad_right()));
  }

  void fill(const conv1d_spec& s, const float* x, std::int64_t l_in, float* row, copy_function copy,
            strided_copy_function copy_every = copy_strided) const {
    auto padding = [&](std::int64_t m) {
      const std::int64_t from = source_position(s.mode, start + m * step, l_in);
      return from < 0 ? 0.0f : x[from];
    };
    const bool zeros = s.mode == padding_mode::zeros;
    zero_floats(zeros ? input : pad_left, row);
    if (!zeros)
      for (std::int64_t m = pad_left; m < input; ++m) row[m] = padding(m);
    const float* in = x + start + input * step;
    if (step == 1) {
      copy(in, pad_right - input, row + input);
    } else {
      copy_every(in, step, pad_right - input, row + input);
    }
    if (zeros) {
      zero_floats(count - pad_right, row + pad_right);
    } else {
      for (std::int64_t m = pad_right; m < beyond; ++m) row[m] = padding(m);
      zero_floats(count - beyond, row + beyond);
    }
  }
};

// The input a windowed tile reads for input channels [first_channel,
// first_channel + channels), in the plan's layout: per channel, `stride` phase
// rows (phase r: positions first + r + m * stride), or K tap segments (tap k:
// positions first + k * dilation + m * stride), from input position `first`.
// Only the first `filled` floats of each row: the last tile's kernels read no
// further; and no segments of the taps its variant leaves out.
void build_window(const kernel_plan& p, const float* src_rows, std::int64_t l_in, std::int64_t first,
                  std::int64_t first_channel, std::int64_t channels, std::int64_t phase_length, std::int64_t filled,
                  kernel_plan::skipped_taps skipped, float* window) {
  const conv1d_spec& s = p.spec;
  const std::int64_t rows = p.compact_windows ? s.kernel_size : s.stride;
  const std::int64_t length = p.compact_windows ? p.tile_width() : phase_length;
  const zero_padded_deinterleave_function deinterleave = zero_padded_deinterleave_for(p.target);
  if (deinterleave && !p.compact_windows && s.stride == 2 && s.mode == padding_mode::zeros) {
    for (std::int64_t c = 0; c < channels; ++c) {
      float* const even_row = window + c * 2 * length;
      deinterleave(src_rows + (first_channel + c) * l_in, l_in, first, std::min(filled, length), length, even_row,
                   even_row + length);
    }
    return;
  }
  const copy_function copy = copy_for(p.target);
  const strided_copy_function copy_every = strided_copy_for(p.target);
  for (std::int64_t r = skipped.first; r < rows - skipped.last; ++r) {
    const window_row_runs runs(s, l_in, first + (p.compact_windows ? r * s.dilation : r), s.stride, std::min(filled, length));
    for (std::int64_t c = 0; c < channels; ++c)
      runs.fill(s, src_rows + (first_channel + c) * l_in, l_in, window + (c * rows + r) * length, copy, copy_every);
  }
}

// Asks for the input a tile reads in channels [first_channel, first_channel +
// channels) to be brought into L2 while the current tile computes: a layer
// with hundreds of input rows has more streams than the hardware prefetchers
// follow, and each row's few lines would otherwise be demand misses. A few
// rows they follow on their own: asking again only holds fill buffers.
void prefetch_tile_input(const kernel_plan& p, const float* src_rows, std::int64_t l_in, std::int64_t tile,
                         std::int64_t first_channel, std::int64_t channels) {
#if defined(__SSE__)
  if (channels < kPrefetchedInputRows) return;
  const conv1d_spec& s = p.spec;
  constexpr std::int64_t kLineFloats = 16;
  const std::int64_t tap_span = (p.tile_width() - 1) * s.stride + 1;
  // Compact (widely dilated) windows read K separate segments; others one span.
  const std::int64_t segments = p.compact_windows ? s.kernel_size : 1;
  const std::int64_t span = p.compact_windows ? tap_span : tap_span + (s.kernel_size - 1) * s.dilation;
  for (std::int64_t segment = 0; segment < segments; ++segment) {
    const std::int64_t start = p.window_first(tile) + segment * s.dilation;
    const std::int64_t lo = std::clamp<std::int64_t>(start, 0, l_in), hi = std::clamp<std::int64_t>(start + span, 0, l_in);
    if (lo >= hi) continue;
    for (std::int64_t c = first_channel; c < first_channel + channels; ++c) {
      const float* row = src_rows + c * l_in;
      for (std::int64_t m = lo; m < hi; m += kLineFloats) _mm_prefetch(reinterpret_cast<const char*>(row + m), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(row + hi - 1), _MM_HINT_T1);
    }
  }
#else
  (void)p, (void)src_rows, (void)l_in, (void)tile, (void)first_channel, (void)channels;
#endif
}

// Prefetches, for writing, `rows` output rows of `floats` each (dst_stride
// apart): the next kernel call's tile, so that its stores (or, for a later
// input-channel block, its loads of the partial sums) find their lines owned.
void prefetch_output(const float* dst, int rows, std::int64_t dst_stride, std::int64_t floats) {
  constexpr std::int64_t kLineFloats = 16;
  for (int o = 0; o < rows; ++o, dst += dst_stride) {
    for (std::int64_t m = 0; m < floats; m += kLineFloats) __builtin_prefetch(dst + m, 1, 3);
    __builtin_prefetch(dst + floats - 1, 1, 3);
  }
}

#if CONVJIT_X86_TRANSPOSES
// GCC 12 warns, falsely, that the AVX-512 shuffles' unused mask operands are
// uninitialized; the warning is off for this function only.
#  if !defined(__clang__)
#    pragma GCC diagnostic push
#    pragma GCC diagnostic ignored "-Wuninitialized"
#    pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#  endif
// to[c * to_stride + r] = from[r * from_stride + c] for r < rows and c < cols,
// both at most 16: pairs of rows interleaved, then pairs of pairs, then 128-bit
// lanes moved. A partial block (the last positions of a chunk, the last
// channels) loads and stores masked; a whole one inlines with no masks.
__attribute__((target("avx512f"), always_inline)) inline void transpose_16x16(const float* from,
                                                                             std::int64_t from_stride, int rows,
                                                                             int cols, float* to,
                                                                             std::int64_t to_stride) {
  const __mmask16 col_lanes = __mmask16((1u << cols) - 1), row_lanes = __mmask16((1u << rows) - 1);
  __m512 r[16], t[16];
  // The row and column addresses advance by one stride at a time, opaque to
  // the compiler: hoisting all 32 out of the caller's loop spills them.
  const float* row = from;
  for (int i = 0; i < 16; ++i) {
    r[i] = i < rows ? _mm512_maskz_loadu_ps(col_lanes, row) : _mm512_setzero_ps();
    row += from_stride;
    asm("" : "+r"(row));
  }
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  // r[4i + m], 128-bit lane l: rows 4i..4i+3 of column 4l + m.
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  __m512 column[16];
  for (int m = 0; m < 4; ++m) {
    const __m512 low01 = _mm512_shuffle_f32x4(r[m], r[4 + m], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 high01 = _mm512_shuffle_f32x4(r[m], r[4 + m], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 low23 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 high23 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], _MM_SHUFFLE(3, 2, 3, 2));
    column[m] = _mm512_shuffle_f32x4(low01, low23, _MM_SHUFFLE(2, 0, 2, 0));
    column[4 + m] = _mm512_shuffle_f32x4(low01, low23, _MM_SHUFFLE(3, 1, 3, 1));
    column[8 + m] = _mm512_shuffle_f32x4(high01, high23, _MM_SHUFFLE(2, 0, 2, 0));
    column[12 + m] = _mm512_shuffle_f32x4(high01, high23, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int c = 0; c < cols && c < 16; ++c) {
    _mm512_mask_storeu_ps(to, row_lanes, column[c]);
    to += to_stride;
    asm("" : "+r"(to));
  }
}

#  if !defined(__clang__)
#    pragma GCC diagnostic pop
#  endif

__attribute__((target("avx512f"))) void transpose_avx512(const float* from, std::int64_t from_stride,
                                                         std::int64_t rows, std::int64_t cols, float* to,
                                                         std::int64_t to_stride) {
  for (std::int64_t r = 0; r < rows; r += 16)
    for (std::int64_t c = 0; c < cols; c += 16) {
      const float* block = from + r * from_stride + c;
      float* block_to = to + c * to_stride + r;
      if (r + 16 <= rows && c + 16 <= cols)
        transpose_16x16(block, from_stride, 16, 16, block_to, to_stride);
      else
        transpose_16x16(block, from_stride, int(std::min<std::int64_t>(16, rows - r)),
                        int(std::min<std::int64_t>(16, cols - c)), block_to, to_stride);
    }
}

// The same for 8 x 8 with AVX, whole blocks only.
__attribute__((target("avx"), always_inline)) inline void transpose_8x8(const float* from, std::int64_t from_stride,
                                                                       float* to, std::int64_t to_stride) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(from + i * from_stride);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int m = 0; m < 4; ++m) {
    _mm256_storeu_ps(to + m * to_stride, _mm256_permute2f128_ps(r[m], r[4 + m], 0x20));
    _mm256_storeu_ps(to + (4 + m) * to_stride, _mm256_permute2f128_ps(r[m], r[4 + m], 0x31));
  }
}

__attribute__((target("avx"))) void transpose_whole_8x8_blocks(const float* from, std::int64_t from_stride,
                                                                std::int64_t rows, std::int64_t cols, float* to,
                                                                std::int64_t to_stride) {
  for (std::int64_t r = 0; r < rows; r += 8)
    for (std::int64_t c = 0; c < cols; c += 8)
      transpose_8x8(from + r * from_stride + c, from_stride, to + c * to_stride + r, to_stride);
}
#endif

// to[c * to_stride + r] = from[r * from_stride + c] for r < rows, c < cols:
// in registers, blocks of `block` (16 on AVX-512 plans, 8 on AVX2 ones), the
// rest of an AVX2 transpose one float at a time.
void transpose(const float* from, std::int64_t from_stride, std::int64_t rows, std::int64_t cols, float* to,
               std::int64_t to_stride, int block) {
  std::int64_t full_rows = 0, full_cols = 0;
#if CONVJIT_X86_TRANSPOSES
  if (block == 16) return transpose_avx512(from, from_stride, rows, cols, to, to_stride);
  if (block == 8) {
    full_rows = rows & -8, full_cols = cols & -8;
    transpose_whole_8x8_blocks(from, from_stride, full_rows, full_cols, to, to_stride);
  }
#else
  (void)block;
#endif
  if (full_cols < cols)
    for (std::int64_t r = 0; r < full_rows; ++r)
      for (std::int64_t c = full_cols; c < cols; ++c) to[c * to_stride + r] = from[r * from_stride + c];
  for (std::int64_t r = full_rows; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) to[c * to_stride + r] = from[r * from_stride + c];
}

// `count` floats of `buffer` from a 64-byte boundary: the lane tile's loads
// and stores are whole vectors, and a line-splitting one costs two.
float* aligned_floats(std::vector<float>& buffer, std::int64_t count) {
  constexpr std::size_t kAlign = 64;
  buffer.resize(std::size_t(count) + kAlign / sizeof(float));
  const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
  return buffer.data() + (kAlign - address % kAlign) % kAlign / sizeof(float);
}

int transpose_block(isa target) { return target == isa::avx512 ? 16 : target == isa::avx2 ? 8 : 1; }

// Depthwise layers whose channels fill the lanes: items are (batch, vlen
// channels, a chunk of positions); each transposes its input window to
// position-major (the padding mode applied, lanes past C zero), runs the lane
// tile along it, and transposes the outputs back.
void run_lane_tiles(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in,
                    const ncl_shape& out, const float* src, float* dst, int threads) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const int lanes = p.vlen, tile = p.lane_ur, block = transpose_block(p.target);
  const std::int64_t chunk = (kLaneChunkOutputs + tile - 1) / tile * tile;
  const std::int64_t chunks = (out.l + chunk - 1) / chunk, channel_blocks = p.lane_blocks();
  const std::int64_t pad_left = s.pad_left();
  // Window positions a chunk's tiles read, rounded up to whole transpose
  // blocks: the first chunk's is the longest.
  auto window_span = [&](std::int64_t tiles) {
    const std::int64_t reach = (tiles * tile - 1) * s.stride + (s.kernel_size - 1) * s.dilation + 1;
    return (reach + lanes - 1) / lanes * lanes;
  };
  threads = int(std::clamp<std::int64_t>(threads, 1, in.n * channel_blocks * chunks));
  const conv1d_kernel_fn lane_tile = k.entries[std::size_t(p.lane_variant_index())];
  const copy_function copy_edge = copy_for(p.target);
  // The last block's bias, zero-padded to whole vectors.
  const std::int64_t last_channels = s.out_channels - (channel_blocks - 1) * lanes;
  std::vector<float> last_bias(std::size_t(lanes), 0.0f);
  if (bias) copy_floats(bias + (channel_blocks - 1) * lanes, last_channels, last_bias.data());
  run_team(threads, [&] {
    std::vector<float> window_buffer, edge_buffer, outputs_buffer;  // per thread
    float* const outputs = aligned_floats(outputs_buffer, chunk * lanes);
    float* const edge = aligned_floats(edge_buffer, std::int64_t(lanes) * lanes);
    float* const window = aligned_floats(window_buffer, window_span(chunk / tile) * lanes);
#pragma omp for collapse(3) schedule(static)
    for (std::int64_t n = 0; n < in.n; ++n)
    for (std::int64_t channel_block = 0; channel_block < channel_blocks; ++channel_block)
    for (std::int64_t chunk_index = 0; chunk_index < chunks; ++chunk_index) {
      const std::int64_t first_channel = channel_block * lanes;
      const std::int64_t channels = std::min<std::int64_t>(lanes, s.out_channels - first_channel);
      const std::int64_t first_output = chunk_index * chunk, count = std::min(chunk, out.l - first_output);
      const std::int64_t tiles = (count + tile - 1) / tile;
      const std::int64_t first = first_output * s.stride - pad_left;
      const std::int64_t span = window_span(tiles);
      const float* src_rows = src + (n * in.c + first_channel) * in.l;
      // A square block at a time: straight from the input inside it, else
      // through `edge` with the padding mode applied and missing lanes zero.
      // Runs of whole blocks inside the input go in one call.
      auto inside = [&](std::int64_t position) {
        return channels == lanes && first + position >= 0 && first + position + lanes <= in.l;
      };
      for (std::int64_t position = 0; position < span;) {
        const std::int64_t at = first + position;
        if (inside(position)) {
          std::int64_t end = position + lanes;
          while (end < span && inside(end)) end += lanes;
          transpose(src_rows + at, in.l, lanes, end - position, window + position * lanes, lanes, block);
          position = end;
        } else {
          const window_row_runs runs(s, in.l, at, 1, lanes);
          for (std::int64_t c = 0; c < channels; ++c)
            runs.fill(s, src_rows + c * in.l, in.l, edge + c * lanes, copy_edge);
          zero_floats((lanes - channels) * lanes, edge + channels * lanes);
          transpose(edge, lanes, lanes, lanes, window + position * lanes, lanes, block);
          position += lanes;
        }
      }
      conv1d_args args{};
      args.wei = packed_weight + p.lane_weight_offset(channel_block);
      args.bias = bias ? (channels == lanes ? bias + first_channel : last_bias.data()) : nullptr;
      for (std::int64_t t = 0; t < tiles; ++t) {
        args.src = window + t * tile * s.stride * lanes;
        args.dst = outputs + t * tile * lanes;
        lane_tile(&args);
      }
      transpose(outputs, lanes, count, channels, dst + (n * out.c + first_channel) * out.l + first_output, out.l, block);
    }
  });
}

// Outputs too short for position vectors (positions first_position on):
// items are (batch, group, dot_ur positions); each finds its positions' input
// columns (im2col, the padding mode applied, zero-padded to dot_length), then
// runs every dot block of its group over them, or, with fewer items than
// threads, a share of the blocks. A tile whose columns lie whole in the input,
// evenly spaced, is read in place (the plan's dot_in_place); the others are
// copied. With dot weights beyond L2 (the plan's dot_rows_outer) the order
// turns: the columns of many tiles are found first, then each block of rows
// runs over all of them, its weights read once.
void run_dot_tiles(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in,
                   const ncl_shape& out, const float* src, float* dst, int threads, std::int64_t first_position = 0) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group(), pad_left = s.pad_left();
  // Columns are (sample, position) pairs, samples outer: with outputs shorter
  // than a tile (L_out = 1: a pointwise layer over a batch), a tile's columns
  // span samples, so its weights are loaded once for all of them.
  const std::int64_t positions = out.l - first_position, columns = in.n * positions;
  // Columns a tile: dot_ur, or with fewer positions a sample, the widest
  // piece up to them, so that a tile stays in its sample where it can
  // (Conv1d(64, 64, 3) on 4 positions: 6 columns a tile would span two
  // samples, read copies and scatter their sums: 0.0079-0.0081 ms, against
  // 0.0083-0.0092 with tiles of 6; `convjit bench`, two rounds).
  const int tile_ur = positions > 1 && positions < p.dot_ur ? kernel_plan::piece_for(p.dot_ur, int(positions)) : p.dot_ur;
  const std::int64_t tiles = (columns + tile_ur - 1) / tile_ur;
  const std::int64_t row_blocks = (cout_g + p.dot_rows - 1) / p.dot_rows;
  const std::size_t tile_floats = std::size_t(tile_ur * p.dot_length);
  // The dot variants, looked up once: [tail block][piece - 1], a count the
  // plan has no variant for running as pieces (largest first, more calls).
  const std::vector<int> pieces = kernel_plan::piece_counts(p.dot_ur);
  const std::vector<conv1d_kernel_fn> dot_entries[2] = {
      entries_by_count(k, pieces, [&](int ur) { return p.variant_index(p.dot_rows, ur, false, true); }),
      p.dot_tail ? entries_by_count(k, pieces, [&](int ur) { return p.variant_index(p.dot_tail, ur, false, true); })
                 : std::vector<conv1d_kernel_fn>{}};
  // p.dot_weight_offset(g, row) without its divisions, once a call.
  const float* const dot_weights = packed_weight + p.dot_weight_offset(0, 0);
  const std::int64_t group_dot_floats = p.dot_group_rows() * p.dot_length;
  // Rows of K contiguous inputs, one after another: a column is one copy, or,
  // where every tap lies in the input, no copy at all.
  const bool contiguous_columns = s.dilation == 1 && (cin_g == 1 || s.kernel_size == in.l);
  const copy_function copy_column = copy_for(p.target);
  const padded_copy_function copy_padded_column = padded_copy_for(p.target);
  // Where a column starts in its rows, and whether all its taps lie in them.
  auto column_start = [&](std::int64_t t) { return t * s.stride - pad_left; };
  auto inside = [&](std::int64_t t) { return column_start(t) >= 0 && column_start(t) + s.kernel_size <= in.l; };

  // Tile `tile`'s ur columns, from sample first_n's position first_t on.
  struct tile_columns {
    std::int64_t first_n, first_t;
    int ur;
  };
  auto columns_of = [&](std::int64_t tile) -> tile_columns {
    const std::int64_t first_column = tile * tile_ur;
    const int ur = int(std::min<std::int64_t>(tile_ur, columns - first_column));
    if (positions == 1) return {first_column, first_position, ur};  // no division: a column a sample
    return {first_column / positions, first_position + first_column % positions, ur};
  };
  // A tile's columns: column j at first + j * stride.
  struct column_run {
    const float* first;
    std::int64_t stride;
  };
  // Finds a tile's columns of group g: in place, or copied to column_data.
  auto find_columns = [&](const tile_columns& tc, std::int64_t g, float* column_data) -> column_run {
    const auto [first_n, first_t, ur] = tc;
    const float* first_rows = src + (first_n * in.c + g * cin_g) * in.l;
    if (p.dot_in_place && contiguous_columns) {
      if (positions == 1 && inside(first_t))  // one column a sample, each as far on as a sample
        return {first_rows + column_start(first_t), in.c * in.l};
      if (first_t + ur <= out.l && inside(first_t) && inside(first_t + ur - 1))  // within one sample
        return {first_rows + column_start(first_t), s.stride};
    }
    for (std::int64_t j = 0, n = first_n, t = first_t; j < ur; ++j, ++t) {
      if (t == out.l) t = first_position, ++n;
      const float* src_rows = src + (n * in.c + g * cin_g) * in.l;
      float* column = column_data + j * p.dot_length;
      const window_row_runs taps(s, in.l, column_start(t), s.dilation, s.kernel_size);
      if (taps.input == 0 && taps.pad_right == s.kernel_size) {  // every tap inside the input: a plain gather
        const float* from = src_rows + taps.start;
        if (contiguous_columns) {
          copy_padded_column(from, cin_g * s.kernel_size, p.dot_length, column);
          continue;
        }
        for (std::int64_t c = 0; c < cin_g; ++c, from += in.l)
          if (s.dilation == 1) copy_column(from, s.kernel_size, column + c * s.kernel_size);
          else
            for (std::int64_t tap = 0; tap < s.kernel_size; ++tap) column[c * s.kernel_size + tap] = from[tap * s.dilation];
      } else {
        for (std::int64_t c = 0; c < cin_g; ++c) taps.fill(s, src_rows + c * in.l, in.l, column + c * s.kernel_size, copy_column);
      }
      zero_floats(p.dot_length - cin_g * s.kernel_size, column + cin_g * s.kernel_size);
    }
    return {column_data, p.dot_length};
  };
  // Runs row blocks [first_block, end_block) of group g over tile's columns.
  // Columns of one sample (consecutive positions), or of one position a
  // sample, are written in place, dst_column_stride apart; other columns
  // spanning samples go through `sums`, then to their samples.
  auto run_blocks = [&](const tile_columns& tc, std::int64_t g, std::int64_t first_block, std::int64_t end_block,
                        column_run run, float* sums, conv1d_args& args) {
    const auto [first_n, first_t, ur] = tc;
    // The kernel writes the columns to the output when they are a stride
    // apart: positions of one sample, or one position a sample; with rows in
    // lanes, whose rows are contiguous, only the latter (L_out = 1).
    const bool one_sample = first_t + ur <= out.l;
    const bool in_place = p.dot_rows_in_lanes ? out.l == 1 : one_sample || positions == 1;
    // Where the kernel puts output row o of column j: in place, or in `sums`.
    const std::int64_t row_step = in_place ? out.l : p.dot_rows_in_lanes ? 1 : ur;
    const std::int64_t column_step = in_place ? (one_sample && !p.dot_rows_in_lanes ? 1 : out.c * out.l)
                                              : (p.dot_rows_in_lanes ? p.dot_rows : 1);
    args.src = run.first;
    args.src_stride = run.stride;
    args.dst_stride = row_step;
    args.dst_column_stride = column_step;
    const std::int64_t rows_end = std::min(cout_g, end_block * p.dot_rows);
    for (std::int64_t row = first_block * p.dot_rows; row < rows_end; row += p.dot_rows) {
      const int rows = int(std::min<std::int64_t>(p.dot_rows, cout_g - row));
      const std::int64_t first_channel = g * cout_g + row;
      args.wei = dot_weights + g * group_dot_floats + row * p.dot_length;
      args.bias = bias ? bias + first_channel : nullptr;
      float* const tile_dst = in_place ? dst + (first_n * out.c + first_channel) * out.l + first_t : sums;
      const conv1d_kernel_fn* entries = dot_entries[rows == p.dot_rows ? 0 : 1].data();
      for (int done = 0, size = 0; done < ur; done += size) {  // pieces, largest first
        size = kernel_plan::piece_for(p.dot_ur, ur - done);
        args.src = run.first + done * run.stride;
        args.dst = tile_dst + done * args.dst_column_stride;
        entries[size - 1](&args);
      }
      if (in_place) continue;
      for (std::int64_t j = 0, n = first_n, t = first_t; j < ur; ++j, ++t) {
        if (t == out.l) t = first_position, ++n;
        float* const to = dst + (n * out.c + first_channel) * out.l + t;
        for (int o = 0; o < rows; ++o) to[o * out.l] = sums[o * row_step + j * column_step];
      }
    }
  };

  if (p.dot_rows_outer && tiles > 1) {
    // Passes over the weights, each over as many tiles as kDotColumnBytes holds.
    const std::int64_t pass_tiles =
        std::clamp<std::int64_t>(kDotColumnBytes / std::int64_t(tile_floats * sizeof(float) * std::size_t(s.groups)), 1, tiles);
    std::vector<float> column_data(std::size_t(s.groups * pass_tiles) * tile_floats);
    std::vector<tile_columns> tiles_columns(static_cast<std::size_t>(pass_tiles));
    std::vector<column_run> runs(std::size_t(s.groups * pass_tiles));
    threads = int(std::clamp<std::int64_t>(threads, 1, s.groups * row_blocks));
    run_team(threads, [&] {
      std::vector<float> sums(std::size_t(p.dot_rows * p.dot_ur));
      conv1d_args args{};
      for (std::int64_t first_tile = 0; first_tile < tiles; first_tile += pass_tiles) {
        const std::int64_t pass = std::min(pass_tiles, tiles - first_tile);
#pragma omp for schedule(static)
        for (std::int64_t tile = 0; tile < pass; ++tile) tiles_columns[std::size_t(tile)] = columns_of(first_tile + tile);
#pragma omp for collapse(2) schedule(static)
        for (std::int64_t g = 0; g < s.groups; ++g)
          for (std::int64_t tile = 0; tile < pass; ++tile) {
            const std::size_t at = std::size_t(g * pass_tiles + tile);
            runs[at] = find_columns(tiles_columns[std::size_t(tile)], g, column_data.data() + at * tile_floats);
          }
#pragma omp for collapse(2) schedule(static)
        for (std::int64_t g = 0; g < s.groups; ++g)
          for (std::int64_t block = 0; block < row_blocks; ++block)
            for (std::int64_t tile = 0; tile < pass; ++tile)
              run_blocks(tiles_columns[std::size_t(tile)], g, block, block + 1, runs[std::size_t(g * pass_tiles + tile)],
                         sums.data(), args);
      }
    });
    return;
  }
  const std::int64_t row_parts = block_parts_for(threads, s.groups * tiles, row_blocks);
  threads = int(std::clamp<std::int64_t>(threads, 1, s.groups * tiles * row_parts));
  run_team(threads, [&] {
    // Uninitialized: each float is written before it is read, a column by
    // find_columns, a sum by its kernel (zeroing them cost seed.depthwise_k49
    // a sixth of its driver time).
    const auto column_data = std::make_unique_for_overwrite<float[]>(tile_floats);
    const auto sums = std::make_unique_for_overwrite<float[]>(std::size_t(p.dot_rows * p.dot_ur));
    // Zeroed once, not a call (a `rep stos`): run_blocks sets what dot kernels read.
    conv1d_args args{};
#pragma omp for collapse(3) schedule(static)
    for (std::int64_t tile = 0; tile < tiles; ++tile)
    for (std::int64_t g = 0; g < s.groups; ++g)
    for (std::int64_t part = 0; part < row_parts; ++part) {
      const tile_columns tc = columns_of(tile);
      const bool split = row_parts > 1;  // no divisions for the usual one part
      run_blocks(tc, g, split ? row_blocks * part / row_parts : 0, split ? row_blocks * (part + 1) / row_parts : row_blocks,
                 find_columns(tc, g, column_data.get()), sums.get(), args);
    }
  });
}

// Depthwise layers of stride 1 whose tiles run as pieces (a row's tiles as
// one item): items are chunks of up to tile_group tiles of a row, so a long
// row still spreads over the threads, each cut into calls of ur_w vectors and
// one call of the smallest piece that covers the rest, moved back to end at
// the chunk's end: it recomputes a few of the previous call's outputs (the
// same way every run) instead of making more calls, and a partial
// last vector becomes a whole one (convnext1d k15, 500 outputs: 3 calls a row,
// not 6). A row's first call of ur_w vectors and its last, when their taps
// leave the input at one end, run the plan's edge variants, which pad in
// place (kernel_plan::edge_tiles); any other call whose taps leave the input
// reads a window of its own span, the padding mode applied. Every window of a
// chunk is filled before its first call runs: a kernel's unaligned loads span
// two of the fill's stores, which cannot forward, so a kernel reading a
// window just filled waits for the stores to retire.
void run_depthwise_rows(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in,
                        const ncl_shape& out, const float* src, float* dst, int threads) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const std::int64_t vlen = p.vlen, reach = p.taps.back().offset, pad_left = s.pad_left();
  // A chunk shorter than a vector joins the one before, so that every call
  // but that of an output shorter than a vector stores whole vectors.
  const std::int64_t chunk_length = std::int64_t(p.tile_group) * p.tile_width();
  const std::int64_t chunks = std::max<std::int64_t>(1, (out.l - vlen) / chunk_length + 1);
  const std::int64_t rows = in.n * s.groups;
  struct row_call {
    std::int64_t first;  // output position
    int vectors;
    // A call whose taps leave the input: how to fill its window (the same
    // for every row) and where it lies in the chunk's windows.
    std::optional<window_row_runs> window_runs;
    std::int64_t window = 0;
    // Else the input position src points at (the call's first, or a left
    // edge variant's row start), and an edge variant's kernel and
    // conv1d_args::src_wrap.
    std::int64_t src_at = 0;
    conv1d_kernel_fn edge = nullptr;
    std::int64_t src_wrap = 0;
  };
  std::vector<std::vector<row_call>> chunk_calls(static_cast<std::size_t>(chunks));
  std::int64_t window_floats = 0;
  const std::vector<int> counts = p.position_urs();  // ascending
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t first = c * chunk_length, end = c + 1 == chunks ? out.l : first + chunk_length;
    std::vector<row_call>& calls = chunk_calls[std::size_t(c)];
    std::int64_t at = first;
    for (; end - at >= p.tile_width(); at += p.tile_width()) calls.push_back({at, p.ur_w, std::nullopt, 0});
    while (at < end) {
      const int needed = int((end - at + vlen - 1) / vlen);
      const int covering = *std::lower_bound(counts.begin(), counts.end(), needed);
      // Else whole vectors from `at` on, the last one moved back (never into the chunk before).
      const int size = end - covering * vlen >= first
                           ? covering
                           : p.position_piece(int(std::max<std::int64_t>(1, (end - at) / vlen)));
      const std::int64_t call_first = std::max<std::int64_t>(0, std::min(at, end - size * vlen));
      calls.push_back({call_first, size, std::nullopt, 0});
      at = call_first + size * vlen;
    }
    std::int64_t windows = 0;
    for (row_call& call : calls) {
      const std::int64_t input_first = call.first - pad_left, span = call.vectors * vlen + reach;
      call.src_at = input_first;
      if (input_first >= 0 && input_first + span <= in.l) continue;  // in place
      // The row's first call of ur_w vectors and its last pad in place when
      // their taps leave the input at one end only.
      if (p.edge_tiles && call.first == 0 && call.vectors == p.ur_w && input_first + span <= in.l) {
        call.edge = k.entries[std::size_t(p.edge_variant_index(row_edge::left, 1, call.vectors))];
        call.src_at = 0;
        call.src_wrap = in.l;
      } else if (p.edge_tiles && input_first >= 0 && call.first + call.vectors * vlen == out.l) {
        call.edge = k.entries[std::size_t(p.edge_variant_index(row_edge::right, 1, call.vectors))];
        call.src_wrap = -in.l;
      } else {
        call.window = windows;
        call.window_runs.emplace(s, in.l, input_first, 1, span);
        windows += span;
      }
    }
    window_floats = std::max(window_floats, windows);
  }
  const std::int64_t group_weights = p.weight_block_offset(1, 0), first_weights = p.weight_block_offset(0, 0);
  const copy_function copy = copy_for(p.target);
  threads = int(std::clamp<std::int64_t>(threads, 1, rows * chunks));
  run_team(threads, [&] {
    std::vector<float> windows(static_cast<std::size_t>(window_floats));
    conv1d_args a{};
    a.dst_stride = out.l;
    const std::vector<conv1d_kernel_fn> pieces =
        entries_by_count(k, counts, [&](int ur) { return p.variant_index(1, ur, false); });
#pragma omp for schedule(static)
    for (std::int64_t item = 0; item < rows * chunks; ++item) {
      const std::int64_t row = chunks == 1 ? item : item / chunks, g = s.groups == 1 ? 0 : row % s.groups;
      const std::vector<row_call>& calls = chunk_calls[std::size_t(chunks == 1 ? 0 : item % chunks)];
      const float* row_in = src + row * in.l;  // one input and one output channel a group
      float* row_out = dst + row * out.l;
      a.wei = packed_weight + g * group_weights + first_weights;
      a.bias = bias ? bias + g : nullptr;
      for (const row_call& call : calls)
        if (call.window_runs) call.window_runs->fill(s, row_in, in.l, windows.data() + call.window, copy);
      for (const bool windowed : {false, true})
        for (const row_call& call : calls) {
          if (call.window_runs.has_value() != windowed) continue;
          a.src = windowed ? windows.data() + call.window : row_in + call.src_at;
          a.src_stride = windowed ? call.window_runs->count : in.l;
          a.src_wrap = call.src_wrap;
          // An output shorter than a vector: its first lanes, masked.
          const std::int64_t past_end = call.first + call.vectors * vlen - out.l;
          a.dst = row_out + call.first;
          a.last_lanes = past_end > 0 ? vlen - past_end : 0;
          (call.edge ? call.edge : pieces[std::size_t(call.vectors - 1)])(&a);
        }
    }
  });
}

}  // namespace

bool streams_output(const kernel_plan& p, const ncl_shape& out, const float* dst) {
#if defined(__SSE2__)  // the stores are fenced with sfence
  const std::int64_t vector_bytes = std::int64_t(p.vlen) * std::int64_t{sizeof(float)};
  return p.stream_stores && out.count() * std::int64_t{sizeof(float)} > kStreamOutputBytes &&
         reinterpret_cast<std::uintptr_t>(dst) % std::uintptr_t(vector_bytes) == 0 && out.l % p.vlen == 0;
#else
  (void)p, (void)out, (void)dst;
  return false;
#endif
}

void run_conv1d(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in, const float* src,
                float* dst, int threads) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const ncl_shape out = output_shape(s, in);
  if (out.count() == 0) return;
  const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
  const std::int64_t tiles = p.tile_count(out.l), tile_width = p.tile_width();
  const std::int64_t items = in.n * s.groups * tiles * p.blocks_per_group();
  const double flops = conv1d_flops(s, in);
  if (threads <= 0) threads = omp_get_max_threads();
  threads = int(std::clamp<std::int64_t>(std::min<std::int64_t>(threads, std::int64_t(flops / kFlopsPerThread)), 1,
                                         items));
  if (p.use_dot_tile(out.l)) return run_dot_tiles(k, packed_weight, bias, in, out, src, dst, threads);
  if (p.lane_ur > 0) return run_lane_tiles(k, packed_weight, bias, in, out, src, dst, threads);
  if (p.depthwise && p.tiles_in_pieces() && s.stride == 1)
    return run_depthwise_rows(k, packed_weight, bias, in, out, src, dst, threads);

  // Per block of a group: its rows and where its weights start (group 0).
  struct block {
    int rows;
    std::int64_t weight_offset, first_channel;
  };
  std::vector<block> blocks;
  for (int b = 0; b < p.blocks_per_group(); ++b)
    blocks.push_back({p.block_rows(b), p.weight_block_offset(0, b), std::int64_t(b) * p.oc_block});
  const std::int64_t group_weights = p.weight_block_offset(1, 0);
  // Calls long enough to hide it prefetch the next call's output (conv1d_bench
  // medians, three runs each: wavenet.d1 5.44-5.66 -> 4.83-4.92, wavenet.d16
  // 5.14-5.27 -> 4.87-4.92, whisper.conv1 6.81-7.26 -> 6.63-6.72; the rest of
  // the suite's dense layers within noise); seed.pad1's 72-FMA calls were slower.
  const bool prefetch_outputs = p.oc_block * p.ur_w * s.kernel_size * p.ic_block >= kPrefetchCallFmas;
  // Each block's variants, by vectors [compact windows][tail block], its
  // column tiles and whole tiles with trailing columns [tail block].
  std::vector<conv1d_kernel_fn> tile_entries[2][2], column_entries[2], trailing_entries[2];
  for (int tail = 0; tail < 2; ++tail) {
    const int rows = tail ? p.oc_tail : p.oc_block;
    if (rows == 0) continue;
    for (int compact = 0; compact < (p.compact_windows ? 2 : 1); ++compact)
      tile_entries[compact][tail] =
          entries_by_count(k, p.position_urs(), [&](int ur) { return p.variant_index(rows, ur, compact != 0); });
    column_entries[tail] = entries_by_count(k, kernel_plan::piece_counts(p.column_ur),
                                            [&](int ur) { return p.column_variant_index(rows, ur); });
    std::vector<int> trailing_counts(std::size_t(p.trailing_columns));
    std::iota(trailing_counts.begin(), trailing_counts.end(), 1);
    trailing_entries[tail] =
        entries_by_count(k, trailing_counts, [&](int columns) { return p.trailing_variant_index(rows, columns); });
  }
  // A whole tile's variant reading the input in place or a phase window [tail block].
  const conv1d_kernel_fn whole_tile[2] = {tile_entries[0][0].back(),
                                          p.oc_tail > 0 ? tile_entries[0][1].back() : nullptr};
  const std::int64_t window_row_floats = p.window_row_floats(), window_phase_length = p.window_phase_length();
  const kernel_plan::tile_range middle = p.in_place_tiles(in.l, out.l);
  const std::int64_t pad_left = s.pad_left();
  // Every tile but the last is whole. Where calls store their outputs (no
  // input-channel splits add to them), a last tile that ends in a partial
  // vector moves back to end at the output's end, so it stores whole vectors
  // in place. The few outputs of the tile before that it computes again must
  // come out the same, bit for bit, whichever thread writes them last: it
  // moves back only when its variants sum in the same order as whole tiles
  // (seed.pad1, 100 outputs: no column scratch to fill and scatter). Else a
  // last tile of a few columns runs them as the tile before's trailing
  // columns; else the last tile runs its whole vectors, then its last few
  // positions on the column tile, or else the narrowest variant that covers
  // it, or, with few positions, the dot tile after the others.
  const std::int64_t last_valid = out.l - (tiles - 1) * tile_width;
  const int last_vectors = int((last_valid + p.vlen - 1) / p.vlen);  // covering the last tile's outputs
  const std::int64_t moved_back = [&]() -> std::int64_t {
    if (p.splits_channels() || tiles < 2 || last_valid % p.vlen == 0) return 0;
    for (int rows : {p.oc_block, p.oc_tail})
      for (int done = 0, size = 0; rows > 0 && done < last_vectors; done += size) {
        size = p.position_piece(last_vectors - done);
        if (p.position_sums(rows, size) != p.position_sums(rows, p.ur_w)) return 0;
      }
    return last_vectors * p.vlen - last_valid;
  }();
  const bool trailing = !moved_back && tiles > 1 && p.use_trailing_columns(last_valid);
  // The last tile a kernel runs, and what it computes past its whole vectors.
  const std::int64_t last_tile = trailing ? tiles - 2 : tiles - 1;
  const int last_columns = !moved_back && p.use_column_tile(last_valid % p.vlen) ? int(last_valid % p.vlen) : 0;
  const int last_ur = trailing ? p.ur_w : last_columns ? int(last_valid / p.vlen) : last_vectors;
  const bool last_on_dot_tiles =
      !moved_back && !last_columns && tiles > 1 && last_valid < tile_width && p.use_dot_tile(last_valid);
  const std::int64_t position_tiles = trailing || last_on_dot_tiles ? tiles - 1 : tiles;
  const std::int64_t column_floats = std::int64_t(last_columns) * p.vlen;  // a block's column scratch
  // Floats of each window row the last tile's kernels read: its vectors and
  // columns, and in a phase row the reach of the taps past them.
  const std::int64_t last_reads = std::int64_t(last_ur) * p.vlen + last_columns;
  const std::int64_t last_window_row = p.compact_windows ? last_reads : last_reads + p.taps.back().offset;
  // A phase window's rows (lengths a run-time stride) are that short in the
  // last tile: a few columns' window takes a few lines, not the whole tile's,
  // which would evict from L1 the weights a column tile reads after the
  // position tile.
  const std::int64_t last_phase_length = p.compact_windows ? window_phase_length : last_window_row;
  // A last tile whose valid outputs' taps all lie in the input reads it in
  // place too (stride 1). A partial last vector's lanes past L_out read on
  // past the row's end, into the next row, and are never stored; only past
  // the tensor's last row (the last sample's last group) is that not the
  // input, and there the tile reads a window as before (seed.k3, 47 outputs
  // in one tile a sample, a window each: 0.025 -> 0.018 ms, conv1d_bench
  // medians, two alternating rounds).
  const std::int64_t last_read_first = last_tile * tile_width - moved_back - pad_left;
  const std::int64_t last_read_end = last_read_first + last_reads + p.taps.back().offset;
  const bool last_in_place = s.stride == 1 && !trailing && last_read_first >= 0 &&
                             last_read_first + last_valid + moved_back + p.taps.back().offset <= in.l;
  // Edge tiles (kernel_plan::edge_tiles) read their rows in place and pad
  // them themselves: the first tile when its taps leave the input at the left
  // end only, and a last tile of whole vectors ending at the output's end
  // (moved back, or exactly) when they leave it at the right end only.
  const bool left_edge = p.edge_tiles && last_tile > 0 && tile_width + p.taps.back().offset - pad_left <= in.l;
  const bool right_edge = p.edge_tiles && !trailing && !last_columns && !last_on_dot_tiles &&
                          (moved_back > 0 || last_valid == std::int64_t(last_ur) * p.vlen) &&
                          p.position_piece(last_ur) == last_ur && out.l - std::int64_t(last_ur) * p.vlen >= pad_left;
  conv1d_kernel_fn edge_entries[2][2] = {};  // [tail block][left, right]
  for (int tail = 0; tail < 2 && p.edge_tiles; ++tail) {
    const int rows = tail ? p.oc_tail : p.oc_block;
    if (rows == 0) continue;
    edge_entries[tail][0] = k.entries[std::size_t(p.edge_variant_index(row_edge::left, rows, p.ur_w))];
    if (right_edge) edge_entries[tail][1] = k.entries[std::size_t(p.edge_variant_index(row_edge::right, rows, last_ur))];
  }

  // Whole windowed tiles whose first or last taps read only zero padding
  // leave them out (kernel_plan::padding_taps_left, _right): their variants
  // [tail block][left, right] by count.
  std::vector<conv1d_kernel_fn> skipping_entries[2][2];
  for (int tail = 0; tail < 2; ++tail) {
    const int rows = tail ? p.oc_tail : p.oc_block;
    for (const row_edge side : {row_edge::left, row_edge::right})
      if (rows > 0)
        skipping_entries[tail][side == row_edge::right] = entries_by_count(
            k, kernel_plan::piece_counts(side == row_edge::left ? p.padding_taps_left : p.padding_taps_right),
            [&](int skipped) { return p.skipping_variant_index(side, rows, skipped); });
  }

  const copy_function copy_row = copy_for(p.target);
  const std::int64_t channel_blocks = cin_g == 0 ? 1 : cin_g / p.ic_block;  // no input channels: the bias
  // A window's place per tile: the last tile's rows may be longer (trailing columns).
  const std::int64_t window_floats =
      p.ic_block * (p.compact_windows ? window_row_floats : std::max(window_phase_length, last_phase_length) * s.stride);

  // Items are (part, batch, group, tile): with fewer tiles than threads (a
  // short output of one sample), the output-channel blocks are split into
  // parts too, each part a share of every tile's blocks.
  const std::int64_t tile_items = in.n * s.groups * position_tiles;
  // A last tile of a few columns is nearly free: the shares count whole tiles
  // (wav2vec2.conv6: 48 positions and 1; the second thread idled with the 1).
  const bool light_last_tile = position_tiles == tiles && 2 * (last_valid + moved_back) < tile_width;
  const std::int64_t block_parts = block_parts_for(
      threads, in.n * s.groups * (position_tiles - (light_last_tile ? 1 : 0)), std::int64_t(blocks.size()));
  // Every call's stores stream then but a moved-back last tile's (off the
  // vector boundary).
  const bool stream = streams_output(p, out, dst);
  // A last tile ending in a partial vector stores its first lanes in place,
  // masked (kernel_plan::masks_last_vector), not through a scratch tile
  // copied after (seed.k3: 15% of its time in those copies).
  const std::int64_t last_lanes =
      !moved_back && !last_columns && !trailing && !last_on_dot_tiles ? last_valid % p.vlen : 0;
  run_team(threads, [&] {
    std::vector<float> window, columns;  // per thread
    // Per tile of a group; each call sets every field its variant reads (not
    // the whole struct per tile: GCC zeroes it with rep stos, 18% of this
    // loop's time in stereo.long's 48-position tiles).
    std::vector<conv1d_args> args(std::size_t(p.tile_group));
    std::vector<char> windowed(std::size_t(p.tile_group));
    std::vector<row_edge> edges(std::size_t(p.tile_group));
    std::vector<kernel_plan::skipped_taps> skips(std::size_t(p.tile_group));
    // Each thread takes a contiguous share of the items, as a static schedule
    // would, and runs them tile_group at a time.
    const int team = omp_get_num_threads(), thread = omp_get_thread_num();
    const std::int64_t share_end = tile_items * block_parts * (thread + 1) / team;
    for (std::int64_t item = tile_items * block_parts * thread / team; item < share_end;) {
      const std::int64_t part = item / tile_items, tile_item = item % tile_items;
      const std::size_t blocks_begin = blocks.size() * std::size_t(part) / std::size_t(block_parts),
                        blocks_end = blocks.size() * std::size_t(part + 1) / std::size_t(block_parts);
      const std::int64_t first_tile = tile_item % position_tiles, g = tile_item / position_tiles % s.groups,
                         n = tile_item / position_tiles / s.groups;
      const int group_tiles = int(std::min<std::int64_t>({p.tile_group, share_end - item, position_tiles - first_tile}));
      item += group_tiles;
      const float* src_rows = src + (n * in.c + g * cin_g) * in.l;
      window.resize(std::size_t(group_tiles * window_floats));
      bool any_columns = false;
      for (int j = 0; j < group_tiles; ++j) {
        const std::int64_t tile = first_tile + j;
        // A moved-back last tile too; a tile with trailing columns reads past its own end.
        windowed[j] = tile < middle.first || tile >= middle.end || (trailing && tile == last_tile);
        if (tile == last_tile && last_in_place)
          windowed[j] = last_read_end > in.l && n + 1 == in.n && g + 1 == s.groups;
        edges[j] = !windowed[j]                        ? row_edge::none
                   : tile == 0 && left_edge            ? row_edge::left
                   : tile == last_tile && right_edge ? row_edge::right
                                                       : row_edge::none;
        windowed[j] = windowed[j] && edges[j] == row_edge::none;
        skips[j] = windowed[j] && tile != last_tile ? p.padding_taps_of(tile, in.l) : kernel_plan::skipped_taps{};
        args[j].src_wrap = edges[j] == row_edge::left ? in.l : -in.l;  // circular padding's wrap
        const std::int64_t phase_length = tile == last_tile ? last_phase_length : window_phase_length;
        args[j].src_stride = !windowed[j] ? in.l : p.compact_windows ? window_row_floats : phase_length * s.stride;
        args[j].phase_stride = windowed[j] ? phase_length : 0;
        args[j].dst_stride = out.l;
        args[j].last_lanes = 0;  // set by a partial last tile's calls, which leave it set
        any_columns |= tile == last_tile && last_columns > 0;
      }
      if (any_columns) {  // the column tile adds to its scratch: it starts at the bias
        columns.assign(blocks.size() * std::size_t(column_floats), 0.0f);
        for (std::size_t b = blocks_begin; b < blocks_end && bias; ++b)
          for (int j = 0; j < last_columns; ++j)
            copy_row(bias + g * cout_g + blocks[b].first_channel, blocks[b].rows,
                     columns.data() + b * std::size_t(column_floats) + std::size_t(j * p.vlen));
      }
      // Input-channel blocks outside, output-channel blocks inside: a block of
      // the tiles' input (their windows, built per block) stays in cache while
      // every output block reads it.
      for (std::int64_t block_index = 0; block_index < channel_blocks; ++block_index) {
        const std::int64_t c = block_index * p.ic_block;
        for (int j = 0; j < group_tiles; ++j) {
          const std::int64_t tile = first_tile + j;
          if (windowed[j]) {
            const bool last = tile == last_tile;
            args[j].src = window.data() + j * window_floats;
            build_window(p, src_rows, in.l, p.window_first(tile) - (last ? moved_back * s.stride : 0), c, p.ic_block,
                         last ? last_phase_length : window_phase_length, last ? last_window_row : window_phase_length,
                         skips[j], window.data() + j * window_floats);
          } else {  // a left edge tile's src is the row's start
            args[j].src = src_rows + c * in.l +
                          (edges[j] == row_edge::left ? 0 : tile * tile_width - (tile == last_tile ? moved_back : 0) - pad_left);
          }
          // The next block's input: a later one could leave L2 again, as a
          // layer's weights stream through it for every tile.
          if (block_index + 1 < channel_blocks) {
            prefetch_tile_input(p, src_rows, in.l, tile, c + p.ic_block, p.ic_block);
          } else if (tile + group_tiles < position_tiles) {
            prefetch_tile_input(p, src_rows, in.l, tile + group_tiles, 0, p.ic_block);
          }
        }
        for (std::size_t b = blocks_begin; b < blocks_end; ++b) {
          const int rows = blocks[b].rows;
          const std::int64_t first_channel = g * cout_g + blocks[b].first_channel;
          const bool tail_block = rows != p.oc_block;
          const float* const block_wei = packed_weight + g * group_weights + blocks[b].weight_offset + c * p.channel_weights(rows);
          const float* const block_bias = bias ? bias + first_channel : nullptr;
          float* const block_dst = dst + (n * out.c + first_channel) * out.l;
          for (int j = 0; j < group_tiles; ++j) {
            const std::int64_t tile = first_tile + j;
            const bool last = tile == last_tile;
            conv1d_args& a = args[std::size_t(j)];
            a.wei = block_wei;
            a.bias = block_bias;
            a.accumulate = c > 0;
            // Most calls: a whole tile, no output to prefetch, its arguments set
            // from the block's without the general case's work (wav2vec2.conv0's
            // 240-FMA calls: 0.171-0.181 -> 0.154-0.168 ms, conv1d_bench medians).
            if (!last && !prefetch_outputs && !(windowed[j] && p.compact_windows) && edges[j] == row_edge::none) {
              a.dst = block_dst + tile * tile_width;
              a.stream = stream;
              whole_tile[tail_block](&a);
              continue;
            }
            const int ur = last ? last_ur : p.ur_w;
            const conv1d_kernel_fn* const entries = tile_entries[windowed[j] && p.compact_windows][tail_block].data();
            a.dst = block_dst + tile * tile_width - (last ? moved_back : 0);
            a.stream = stream && !(last && moved_back);
            const bool next_in_block = j + 1 < group_tiles;  // the next call: this block's next tile, or the next block's first
            if (prefetch_outputs && (next_in_block || b + 1 < blocks_end)) {
              const std::int64_t next_tile = next_in_block ? tile + 1 : first_tile;
              const block& next = blocks[next_in_block ? b : b + 1];
              prefetch_output(dst + (n * out.c + g * cout_g + next.first_channel) * out.l + next_tile * tile_width, next.rows,
                              out.l, std::min(tile_width, out.l - next_tile * tile_width));
            }
            if (edges[j] != row_edge::none) {
              edge_entries[tail_block][edges[j] == row_edge::right](&a);
            } else if (skips[j].first + skips[j].last > 0) {
              const bool right = skips[j].last > 0;
              skipping_entries[tail_block][right][std::size_t((right ? skips[j].last : skips[j].first) - 1)](&a);
            } else if (last && trailing) {
              a.columns = columns.data() + b * std::size_t(column_floats);
              trailing_entries[tail_block][std::size_t(last_columns - 1)](&a);
            } else if (ur == p.ur_w) {
              a.last_lanes = last ? last_lanes : 0;
              entries[ur - 1](&a);
            } else {  // a partial last tile: pieces the plan has variants for, largest first
              // `a` moved along and back, not copied: a copy's 16-byte loads
              // of fields just stored 8 bytes at a time cannot take them from
              // the store queue and wait for them to reach L1 (about 25
              // cycles on Zen 4; a depthwise row's last tile paid it per piece).
              const float* const tile_src = a.src;
              float* const tile_dst = a.dst;
              for (int done = 0, size = 0; done < ur; done += size) {
                size = p.position_piece(ur - done);
                a.src = tile_src + done * p.vlen;
                a.dst = tile_dst + done * p.vlen;
                a.last_lanes = done + size == ur ? last_lanes : 0;  // the last piece's last vector
                entries[size - 1](&a);
              }
              a.src = tile_src;
              a.dst = tile_dst;
            }
            if (last && last_columns && !trailing) {
              const float* const tile_src = a.src;
              float* const column_dst = columns.data() + b * std::size_t(column_floats);
              for (int done = 0, size = 0; done < last_columns; done += size) {  // pieces, largest first
                size = kernel_plan::piece_for(p.column_ur, last_columns - done);
                a.src = tile_src + last_ur * p.vlen + done;
                a.dst = column_dst + done * p.vlen;
                column_entries[tail_block][std::size_t(size - 1)](&a);
              }
              a.src = tile_src;
            }
          }
        }
      }
      if (any_columns)  // position-major to the rows
        for (std::size_t b = blocks_begin; b < blocks_end; ++b) {
          float* to = dst + (n * out.c + g * cout_g + blocks[b].first_channel) * out.l + last_tile * tile_width +
                      last_ur * p.vlen;
          const float* from = columns.data() + b * std::size_t(column_floats);
          for (int o = 0; o < blocks[b].rows; ++o)
            for (int j = 0; j < last_columns; ++j) to[o * out.l + j] = from[j * p.vlen + o];
        }
    }
#if defined(__SSE2__)
    if (stream) _mm_sfence();  // the streamed stores, visible before the team's end
#endif
  });
  if (last_on_dot_tiles)
    run_dot_tiles(k, packed_weight, bias, in, out, src, dst, threads, position_tiles * tile_width);
}

}  // namespace convjit
