// SPDX-License-Identifier: MIT
// The driver.
#include "runtime/driver.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace convjit {
namespace {

constexpr double kFlopsPerThread = 1e6;  // below this a second thread costs more than it saves

// The input a windowed tile reads, as the kernel expects it: per input
// channel, `stride` phase rows of window_phase_length() floats, with the
// padding mode applied. Positions past the padded input only feed outputs
// beyond L_out, which are discarded: they read zero.
void build_window(const kernel_plan& p, const float* src_rows, std::int64_t l_in, std::int64_t tile, float* window) {
  const conv1d_spec& s = p.spec;
  const std::int64_t phase_length = p.window_phase_length(), first = p.window_first(tile);
  const std::int64_t lowest = -s.pad_left(), highest = l_in + s.pad_right();
  // Element m of phase r is input position first + r + m * stride. In m order
  // the positions are: past the padding (zero), left padding, the input itself
  // (copied), right padding, past the padding again (zero).
  auto first_m_at_or_after = [&](std::int64_t start, std::int64_t position) {
    return std::clamp<std::int64_t>((position - start + s.stride - 1) / s.stride, 0, phase_length);
  };
  for (std::int64_t r = 0; r < s.stride; ++r) {
    const std::int64_t start = first + r;
    const std::int64_t m_pad_left = first_m_at_or_after(start, lowest);
    const std::int64_t m_input = std::max(m_pad_left, first_m_at_or_after(start, 0));
    const std::int64_t m_pad_right = std::max(m_input, first_m_at_or_after(start, l_in));
    const std::int64_t m_beyond = std::max(m_pad_right, first_m_at_or_after(start, highest));
    for (std::int64_t c = 0; c < s.in_channels_per_group(); ++c) {
      const float* x = src_rows + c * l_in;
      float* row = window + (c * s.stride + r) * phase_length;
      auto padding = [&](std::int64_t m) {
        const std::int64_t from = source_position(s.mode, start + m * s.stride, l_in);
        return from < 0 ? 0.0f : x[from];
      };
      std::fill(row, row + m_pad_left, 0.0f);
      for (std::int64_t m = m_pad_left; m < m_input; ++m) row[m] = padding(m);
      const float* in = x + start + m_input * s.stride;
      if (s.stride == 1) std::copy(in, in + (m_pad_right - m_input), row + m_input);
      else for (std::int64_t m = m_input; m < m_pad_right; ++m, in += s.stride) row[m] = *in;
      for (std::int64_t m = m_pad_right; m < m_beyond; ++m) row[m] = padding(m);
      std::fill(row + m_beyond, row + phase_length, 0.0f);
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
  const double flops = 2.0 * double(out.count()) * double(cin_g) * double(s.kernel_size);
  if (threads <= 0) threads = omp_get_max_threads();
  threads = int(std::clamp<std::int64_t>(std::min<std::int64_t>(threads, std::int64_t(flops / kFlopsPerThread)), 1,
                                         items));

#pragma omp parallel num_threads(threads)
  {
    std::vector<float> window, partial;  // per thread
#pragma omp for schedule(static)
    for (std::int64_t item = 0; item < items; ++item) {
      const std::int64_t tile = item % tiles, g = item / tiles % s.groups, n = item / tiles / s.groups;
      const float* src_rows = src + (n * in.c + g * cin_g) * in.l;
      conv1d_args args{};
      if (p.tile_in_place(tile, in.l, out.l)) {
        args.src = src_rows + tile * tile_width - s.pad_left();
        args.src_stride = in.l;
      } else {
        window.resize(std::size_t(cin_g * p.window_row_floats()));
        build_window(p, src_rows, in.l, tile, window.data());
        args.src = window.data();
        args.src_stride = p.window_row_floats();
        args.phase_stride = p.window_phase_length();
      }
      // The partial last tile runs the narrowest variant that covers it.
      const std::int64_t valid = std::min(tile_width, out.l - tile * tile_width);
      const int ur = int((valid + p.vlen - 1) / p.vlen);
      const bool store_direct = valid == std::int64_t(ur) * p.vlen;
      for (int b = 0; b < p.blocks_per_group(); ++b) {
        const int rows = p.block_rows(b);
        const std::int64_t first_channel = g * cout_g + std::int64_t(b) * p.oc_block;
        float* dst_tile = dst + (n * out.c + first_channel) * out.l + tile * tile_width;
        args.wei = packed_weight + p.weight_block_offset(g, b);
        args.bias = bias ? bias + first_channel : nullptr;
        if (store_direct) {
          args.dst = dst_tile;
          args.dst_stride = out.l;
        } else {  // the last vector is partial: stored through a scratch tile
          partial.resize(std::size_t(p.oc_block * tile_width));
          args.dst = partial.data();
          args.dst_stride = tile_width;
        }
        k.entry(rows, ur)(&args);
        if (!store_direct)
          for (int o = 0; o < rows; ++o)
            std::memcpy(dst_tile + o * out.l, partial.data() + o * tile_width, std::size_t(valid) * sizeof(float));
      }
    }
  }
}

}  // namespace convjit
