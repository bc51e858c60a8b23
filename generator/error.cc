// SPDX-License-Identifier: MIT
// Names of the error codes.
#include "generator/error.h"

namespace convjit {

std::string_view errc_name(errc code) noexcept {
  switch (code) {
#define CONVJIT_ERRC_NAME(name) \
  case errc::name:              \
    return #name;
    CONVJIT_ERRC_NAME(ok)
    CONVJIT_ERRC_NAME(groups_nonpositive)
    CONVJIT_ERRC_NAME(in_channels_not_divisible)
    CONVJIT_ERRC_NAME(out_channels_not_divisible)
    CONVJIT_ERRC_NAME(invalid_padding_string)
    CONVJIT_ERRC_NAME(same_strided)
    CONVJIT_ERRC_NAME(invalid_padding_mode)
    CONVJIT_ERRC_NAME(channels_negative)
    CONVJIT_ERRC_NAME(input_dim)
    CONVJIT_ERRC_NAME(reflect_pad_too_large)
    CONVJIT_ERRC_NAME(circular_pad_too_large)
    CONVJIT_ERRC_NAME(padding_negative)
    CONVJIT_ERRC_NAME(stride_nonpositive)
    CONVJIT_ERRC_NAME(dilation_nonpositive)
    CONVJIT_ERRC_NAME(out_channels_zero)
    CONVJIT_ERRC_NAME(channel_mismatch)
    CONVJIT_ERRC_NAME(kernel_gt_input)
    CONVJIT_ERRC_NAME(zero_length_input)
    CONVJIT_ERRC_NAME(kernel_nonpositive)
    CONVJIT_ERRC_NAME(parse_error)
    CONVJIT_ERRC_NAME(size_overflow)
    CONVJIT_ERRC_NAME(weight_shape_mismatch)
    CONVJIT_ERRC_NAME(bias_mismatch)
    CONVJIT_ERRC_NAME(buffer_size_mismatch)
    CONVJIT_ERRC_NAME(unsupported_dtype)
    CONVJIT_ERRC_NAME(unknown_backend)
    CONVJIT_ERRC_NAME(backend_unavailable)
    CONVJIT_ERRC_NAME(io_error)
    CONVJIT_ERRC_NAME(invalid_argument)
#undef CONVJIT_ERRC_NAME
  }
  return "unknown";
}

}  // namespace convjit
