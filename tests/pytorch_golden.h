// SPDX-License-Identifier: MIT
// Reader for tests/pytorch_golden: PyTorch's own Conv1d cases and outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convjit::testing {

/** One line of index.txt (see tests/pytorch_golden/README.md). */
struct golden_case {
  std::string name;
  std::string in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode;
  std::vector<std::int64_t> input_dims, output_dims;  // output empty for errors
  std::string error;                                  // "-" or a code name
  std::string error_phase;                            // "-", "construct" or "forward"
  std::string flags;
  std::vector<float> input, weight, bias_values, output;

  bool has_flag(const std::string& flag) const { return flags.find(flag) != std::string::npos; }
  /** The layer as a PyTorch user writes it, every argument by keyword. */
  std::string pytorch_spelling() const;
};

/** All cases, with their tensors. Aborts the test program if the corpus is
 * missing or malformed: a corpus that cannot be read must not pass quietly. */
const std::vector<golden_case>& golden_cases();

/** |got - ref| <= 1e-4 |ref| + 1e-5, the corpus README's tolerance. */
inline bool within_golden_tolerance(float got, float ref) {
  const float diff = got > ref ? got - ref : ref - got;
  return diff <= 1e-4f * (ref < 0 ? -ref : ref) + 1e-5f;
}

}  // namespace convjit::testing
