// SPDX-License-Identifier: MIT
// What a Conv1d layer does to a given input, in numbers and plain sentences.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "generator/spec.h"

namespace convjit {

/** The `convjit explain` text. With empty input_dims it describes the layer
 * alone; otherwise it checks the input (throwing PyTorch's error) and adds the
 * output shape, FLOPs and which input positions the first and last outputs read. */
std::string explain(const conv1d_spec& spec, std::span<const std::int64_t> input_dims);

}  // namespace convjit
