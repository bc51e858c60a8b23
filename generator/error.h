// SPDX-License-Identifier: MIT
// Stable error codes and the exception that carries them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace convjit {

/** Why a spec, a shape or a request was refused. The names returned by
 * errc_name() are stable: tools and tests compare them, never the message.
 * The first block mirrors PyTorch 1.13's nn.Conv1d checks and uses the codes of
 * tests/pytorch_golden/README.md. Values are part of the C ABI (convjit.h). */
enum class errc : int {
  ok = 0,
  // nn.Conv1d constructor (ValueError in PyTorch), in PyTorch's order.
  groups_nonpositive = 1,
  in_channels_not_divisible = 2,
  out_channels_not_divisible = 3,
  invalid_padding_string = 4,
  same_strided = 5,
  invalid_padding_mode = 6,
  channels_negative = 7,
  // forward (RuntimeError in PyTorch), in PyTorch's order.
  input_dim = 10,
  reflect_pad_too_large = 11,
  circular_pad_too_large = 12,
  padding_negative = 13,
  stride_nonpositive = 14,
  dilation_nonpositive = 15,
  out_channels_zero = 16,
  channel_mismatch = 17,
  kernel_gt_input = 18,
  zero_length_input = 19,
  kernel_nonpositive = 20,
  // convjit's own.
  parse_error = 30,
  size_overflow = 31,
  weight_shape_mismatch = 32,
  bias_mismatch = 33,
  buffer_size_mismatch = 34,
  unsupported_dtype = 35,
  unknown_backend = 36,
  backend_unavailable = 37,
  io_error = 38,
  invalid_argument = 39,
};

/** The stable snake_case name of a code, e.g. "kernel_gt_input". */
std::string_view errc_name(errc code) noexcept;

/** The exception every convjit entry point throws for bad input. */
class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace convjit
