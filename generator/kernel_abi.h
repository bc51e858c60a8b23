// SPDX-License-Identifier: MIT
// The one calling convention every generated kernel has, whatever the backend.
#pragma once

#include <cstdint>

namespace convjit {

/** Arguments of one kernel call: one register tile, i.e. a block of output
 * channels (the plan's oc_block, or its oc tail) by ur vectors of output
 * positions. Everything else is a constant of the kernel. Strides are in
 * floats and are run-time values because the input length is.
 *
 * Input row c of the tile (c < C_in/groups) starts at src + c * src_stride.
 * Tap k of output position j reads, in place or from a phase window,
 *   src + c * src_stride + phase * phase_stride + j + (k*dilation) / stride
 * in phase (k*dilation) % stride (stride 1: one phase), and from a tap-segment
 * window (the plan's compact_windows) src + c * src_stride + k * tile_width + j.
 * Output channel o of the block is written at dst + o * dst_stride. */
struct conv1d_args {
  const float* src;
  const float* wei;   // this block's packed weights, plan.weight_block_floats()
  const float* bias;  // this block's bias, or null when the layer has none
  float* dst;         // output channel o of the tile at dst + o * dst_stride
  std::int64_t src_stride;
  std::int64_t phase_stride;
  std::int64_t dst_stride;
  /** Nonzero: add to the output at dst (a later block of input channels)
   * instead of starting at the bias; read only by plans that split the input
   * channels (kernel_plan::adds_at_run_time). */
  std::int64_t accumulate;
  /** A dot tile writes output channel o of its column j at dst + o *
   * dst_stride + j * dst_column_stride: 1 for consecutive positions of one
   * sample, C_out * L_out for one position of consecutive samples (L_out = 1
   * over a batch), so neither needs a scratch copy; with rows in lanes
   * (kernel_plan::dot_rows_in_lanes) at dst + o + j * dst_column_stride, its
   * rows contiguous. Read only by dot tiles. */
  std::int64_t dst_column_stride;
  /** A whole tile with trailing columns (kernel_plan::trailing_columns) adds
   * them here, position-major: column j's rows at columns + j * vlen. Read
   * only by those variants. */
  float* columns;
  /** Nonzero: store the tile's outputs non-temporally, past the caches (an
   * output larger than they are, which would only evict the input and the
   * weights, and cost a read for ownership per line). Set only when dst and
   * dst_stride keep every vector aligned; read only by variants that stream
   * (kernel_plan::streams). */
  std::int64_t stream;
  /** Floats from src to the same position one input length on (+L_in) or
   * back (-L_in): where an edge variant finds circular padding
   * (kernel_plan::edge_lanes). Read only by those. */
  std::int64_t src_wrap;
  /** Nonzero: the tile's last position vector holds only its first
   * last_lanes outputs (a partial last tile), which it stores, and adds to
   * when accumulating, masked: the floats after them, the next row's or past
   * the tensor, are left alone, so the tile writes its outputs in place. Read
   * only by variants that mask it (kernel_plan::masks_last_vector). */
  std::int64_t last_lanes;
};

using conv1d_kernel_fn = void (*)(const conv1d_args* args);

}  // namespace convjit
