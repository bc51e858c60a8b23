// SPDX-License-Identifier: MIT
// The driver: the one place with loops over batch, groups, tiles and threads.
#pragma once

#include "runtime/kernel.h"

namespace convjit {

/** dst = conv1d(src) with a generated kernel, for a checked input `in`.
 * Work items are (batch, group, output tile); each builds its input window
 * when it needs one (edges, strides, the partial last tile), then runs every
 * output-channel block of its group over it, so the window is read from cache.
 * threads <= 0 means all hardware threads; each thread gets at least half a
 * million FLOPs, so smaller problems stay on one thread. */
void run_conv1d(const kernel& k, const float* packed_weight, const float* bias, const ncl_shape& in, const float* src,
                float* dst, int threads);

/** Whether run_conv1d stores an output `out` at dst past the caches
 * (conv1d_args::stream): the plan's position tiles can (stream_stores), the
 * output is larger than a last-level cache (32 MiB), where it would only evict
 * the input and cost a read per line it writes, and dst and its rows keep
 * every vector aligned. */
bool streams_output(const kernel_plan& p, const ncl_shape& out, const float* dst);

}  // namespace convjit
