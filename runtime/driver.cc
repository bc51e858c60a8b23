// SPDX-License-Identifier: MIT
// The driver.
#include "runtime/driver.h"

#include <omp.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#  include <xmmintrin.h>
#endif

#include <algorithm>
#include <vector>

namespace convjit {
namespace {

constexpr double kFlopsPerThread = 1e6;  // below this a second thread costs more than it saves

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

  void fill(const conv1d_spec& s, const float* x, std::int64_t l_in, float* row) const {
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
      copy_floats(in, pad_right - input, row + input);
    } else {
      std::int64_t m = input;
#if defined(__SSE2__)
      if (step == 2)  // the common stride: even elements, four at a time, never past the row
        for (const float* end = x + l_in; m + 4 <= pad_right && in + 8 <= end; m += 4, in += 8)
          _mm_storeu_ps(row + m, _mm_shuffle_ps(_mm_loadu_ps(in), _mm_loadu_ps(in + 4), _MM_SHUFFLE(2, 0, 2, 0)));
#endif
      for (; m < pad_right; ++m, in += step) row[m] = *in;
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
// positions first + k * dilation + m * stride).
void build_window(const kernel_plan& p, const float* src_rows, std::int64_t l_in, std::int64_t tile,
                  std::int64_t first_channel, std::int64_t channels, std::int64_t phase_length, float* window) {
  const conv1d_spec& s = p.spec;
  const std::int64_t first = p.window_first(tile);
  const std::int64_t rows = p.compact_windows ? s.kernel_size : s.stride;
  const std::int64_t length = p.compact_windows ? p.tile_width() : phase_length;
  for (std::int64_t r = 0; r < rows; ++r) {
    const window_row_runs runs(s, l_in, first + (p.compact_windows ? r * s.dilation : r), s.stride, length);
    for (std::int64_t c = 0; c < channels; ++c)
      runs.fill(s, src_rows + (first_channel + c) * l_in, l_in, window + (c * rows + r) * length);
  }
}

// Asks for the input a tile reads in channels [first_channel, first_channel +
// channels) to be brought into L2 while the current tile computes: a layer
// with hundreds of input rows has more streams than the hardware prefetchers
// follow, and each row's few lines would otherwise be demand misses.
void prefetch_tile_input(const kernel_plan& p, const float* src_rows, std::int64_t l_in, std::int64_t tile,
                         std::int64_t first_channel, std::int64_t channels) {
#if defined(__SSE__)
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

// Outputs too short for position vectors: items are (batch, group, dot_ur
// positions); each copies its positions' input columns (im2col, the padding
// mode applied, zero-padded to dot_length), then runs every dot block of its
// group over them.
void run_dot_tiles(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in,
                   const ncl_shape& out, const float* src, float* dst, int threads) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
  const std::int64_t tiles = (out.l + p.dot_ur - 1) / p.dot_ur, pad_left = s.pad_left();
  // The dot variants, looked up once: [tail block][positions - 1].
  std::vector<conv1d_kernel_fn> dot_entries;
  for (int rows : {p.dot_rows, p.dot_tail})
    for (int ur = 1; ur <= p.dot_ur; ++ur) dot_entries.push_back(rows ? k.entry(rows, ur, false, true) : nullptr);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> columns(std::size_t(p.dot_ur * p.dot_length));  // per thread
#pragma omp for collapse(3) schedule(static)
    for (std::int64_t n = 0; n < in.n; ++n)
    for (std::int64_t g = 0; g < s.groups; ++g)
    for (std::int64_t tile = 0; tile < tiles; ++tile) {
      const float* src_rows = src + (n * in.c + g * cin_g) * in.l;
      const std::int64_t first = tile * p.dot_ur;
      const int ur = int(std::min<std::int64_t>(p.dot_ur, out.l - first));
      for (int j = 0; j < ur; ++j) {
        float* column = columns.data() + j * p.dot_length;
        const window_row_runs taps(s, in.l, (first + j) * s.stride - pad_left, s.dilation, s.kernel_size);
        if (taps.input == 0 && taps.pad_right == s.kernel_size) {  // every tap inside the input: a plain gather
          const float* from = src_rows + taps.start;
          for (std::int64_t c = 0; c < cin_g; ++c, from += in.l)
            if (s.dilation == 1) copy_floats(from, s.kernel_size, column + c * s.kernel_size);
            else
              for (std::int64_t tap = 0; tap < s.kernel_size; ++tap) column[c * s.kernel_size + tap] = from[tap * s.dilation];
        } else {
          for (std::int64_t c = 0; c < cin_g; ++c) taps.fill(s, src_rows + c * in.l, in.l, column + c * s.kernel_size);
        }
        zero_floats(p.dot_length - cin_g * s.kernel_size, column + cin_g * s.kernel_size);
      }
      conv1d_args args{};
      args.src = columns.data();
      args.src_stride = p.dot_length;
      args.dst_stride = out.l;
      for (std::int64_t row = 0; row < cout_g; row += p.dot_rows) {
        const int rows = int(std::min<std::int64_t>(p.dot_rows, cout_g - row));
        const std::int64_t first_channel = g * cout_g + row;
        args.wei = packed_weight + p.dot_weight_offset(g, row);
        args.bias = bias ? bias + first_channel : nullptr;
        args.dst = dst + (n * out.c + first_channel) * out.l + first;
        dot_entries[std::size_t((rows == p.dot_rows ? 0 : p.dot_ur) + ur - 1)](&args);
      }
    }
  }
}

}  // namespace

void run_conv1d(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in, const float* src,
                float* dst, int threads) {
  const kernel_plan& p = *k.plan;
  const conv1d_spec& s = p.spec;
  const ncl_shape out = output_shape(s, in);
  if (out.count() == 0) return;
  const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
  const std::int64_t tiles = p.tile_count(out.l), tile_width = p.tile_width();
  const std::int64_t items = in.n * s.groups * tiles;
  const double flops = conv1d_flops(s, in);
  if (threads <= 0) threads = omp_get_max_threads();
  threads = int(std::clamp<std::int64_t>(std::min<std::int64_t>(threads, std::int64_t(flops / kFlopsPerThread)), 1,
                                         items));
  if (p.use_dot_tile(out.l)) return run_dot_tiles(k, packed_weight, bias, in, out, src, dst, threads);

  // Per block of a group: its rows and where its weights start (group 0).
  struct block {
    int rows;
    std::int64_t weight_offset, first_channel;
  };
  std::vector<block> blocks;
  for (int b = 0; b < p.blocks_per_group(); ++b)
    blocks.push_back({p.block_rows(b), p.weight_block_offset(0, b), std::int64_t(b) * p.oc_block});
  const std::int64_t group_weights = p.weight_block_offset(1, 0);
  const std::int64_t window_row_floats = p.window_row_floats(), window_phase_length = p.window_phase_length();
  const kernel_plan::tile_range middle = p.in_place_tiles(in.l, out.l);
  const std::int64_t pad_left = s.pad_left();
  // Every tile but the last is whole; the last runs the narrowest variant that covers it.
  const std::int64_t last_valid = out.l - (tiles - 1) * tile_width;
  const int last_ur = int((last_valid + p.vlen - 1) / p.vlen);

#pragma omp parallel num_threads(threads)
  {
    std::vector<float> window, partial;  // per thread
#pragma omp for collapse(3) schedule(static)
    for (std::int64_t n = 0; n < in.n; ++n)
    for (std::int64_t g = 0; g < s.groups; ++g)
    for (std::int64_t tile = 0; tile < tiles; ++tile) {
      const float* src_rows = src + (n * in.c + g * cin_g) * in.l;
      conv1d_args args{};
      const bool in_place = tile >= middle.first && tile < middle.end;
      if (in_place) {
        args.src_stride = in.l;
      } else {
        window.resize(std::size_t(p.ic_block * window_row_floats));
        args.src = window.data();
        args.src_stride = window_row_floats;
        args.phase_stride = window_phase_length;
      }
      const bool last = tile == tiles - 1;
      const std::int64_t valid = last ? last_valid : tile_width;
      const int ur = last ? last_ur : p.ur_w;
      const bool store_direct = valid == std::int64_t(ur) * p.vlen;
      // The last vector partial: every block's rows go through a scratch tile.
      if (!store_direct) partial.resize(blocks.size() * std::size_t(p.oc_block * tile_width));
      // Input-channel blocks outside, output-channel blocks inside: a block of
      // the tile's input (its window, built per block) stays in L1 while every
      // output block reads it.
      const std::int64_t channel_blocks = cin_g == 0 ? 1 : cin_g / p.ic_block;  // no input channels: the bias
      for (std::int64_t block_index = 0; block_index < channel_blocks; ++block_index) {
        const std::int64_t c = block_index * p.ic_block;
        if (in_place)
          args.src = src_rows + c * in.l + tile * tile_width - pad_left;
        else
          build_window(p, src_rows, in.l, tile, c, p.ic_block, window_phase_length, window.data());
        // The next block's input: a later one could leave L2 again, as a
        // layer's weights stream through it for every tile.
        if (block_index + 1 < channel_blocks)
          prefetch_tile_input(p, src_rows, in.l, tile, c + p.ic_block, p.ic_block);
        else if (tile + 1 < tiles)
          prefetch_tile_input(p, src_rows, in.l, tile + 1, 0, p.ic_block);
        for (std::size_t b = 0; b < blocks.size(); ++b) {
          const int rows = blocks[b].rows;
          const std::int64_t first_channel = g * cout_g + blocks[b].first_channel;
          args.wei = packed_weight + g * group_weights + blocks[b].weight_offset + c * p.channel_weights(rows);
          args.bias = bias ? bias + first_channel : nullptr;
          if (store_direct) {
            args.dst = dst + (n * out.c + first_channel) * out.l + tile * tile_width;
            args.dst_stride = out.l;
          } else {
            args.dst = partial.data() + b * std::size_t(p.oc_block * tile_width);
            args.dst_stride = tile_width;
          }
          k.entry(rows, ur, !in_place && p.compact_windows, false, c > 0)(&args);
        }
      }
      if (!store_direct)
        for (std::size_t b = 0; b < blocks.size(); ++b)
          for (int o = 0; o < blocks[b].rows; ++o)
            copy_floats(partial.data() + (b * std::size_t(p.oc_block) + std::size_t(o)) * std::size_t(tile_width), valid,
                        dst + (n * out.c + g * cout_g + blocks[b].first_channel + o) * out.l + tile * tile_width);
    }
  }
}

}  // namespace convjit
