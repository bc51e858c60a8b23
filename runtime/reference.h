// SPDX-License-Identifier: MIT
// The reference Conv1d: direct, obviously correct, the oracle of every backend.
#pragma once

#include "generator/spec.h"

namespace convjit {

/** y[n,o,t] = bias[o] + sum_{c,k} w[o,c,k] * xp[n, g*Cin/g + c, t*stride + k*dilation]
 * over a checked input `in` (check_input). src is (N, C_in, L_in), wei
 * (C_out, C_in/groups, K), bias (C_out) or null, dst (N, C_out, L_out), all
 * contiguous. Accumulates in double, so it is also the accuracy yardstick. */
void reference_conv1d(const conv1d_spec& spec, const ncl_shape& in, const float* src, const float* wei,
                      const float* bias, float* dst);

}  // namespace convjit
