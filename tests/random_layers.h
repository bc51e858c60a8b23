// SPDX-License-Identifier: MIT
// Random Conv1d layers for the sweeps: channels 1..300, kernel 1..64, stride
// 1..8, dilation 1..32, dense, grouped and depthwise, every padding mode,
// output lengths down to 1, batched and not, each cheap for the reference.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "generator/spec.h"

namespace convjit::testing {

struct sweep_case {
  conv1d_spec spec;
  std::vector<std::int64_t> dims;  // an input PyTorch accepts
};

sweep_case random_case(std::mt19937& rng);

}  // namespace convjit::testing
