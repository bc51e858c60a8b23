// SPDX-License-Identifier: MIT
// The one calling convention every generated kernel has, whatever the backend.
#pragma once

#include <cstdint>

namespace convjit {

/** Arguments of one kernel call: one register tile, i.e. `oc` output channels
 * (the plan's oc_block, or its oc tail) by ur_w vectors of output positions.
 * Everything else is a constant of the kernel. Strides are in floats and are
 * run-time values because the input length is.
 *
 * Input row c of the tile (c < C_in/groups) starts at src + c * src_stride;
 * tap k of output position j reads, in phase (k*dilation) % stride,
 *   src + phase * phase_stride + c * src_stride + j + (k*dilation) / stride
 * (with stride 1 there is one phase). A depthwise plan gives each output
 * channel o its own input row: src + o * src_stride. */
struct conv1d_args {
  const float* src;
  const float* wei;   // this block's packed weights, plan.weight_block_floats()
  const float* bias;  // this block's bias, or null when the layer has none
  float* dst;         // output channel o of the tile at dst + o * dst_stride
  std::int64_t src_stride;
  std::int64_t phase_stride;
  std::int64_t dst_stride;
};

using conv1d_kernel_fn = void (*)(const conv1d_args* args);

}  // namespace convjit
