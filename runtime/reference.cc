// SPDX-License-Identifier: MIT
// The reference Conv1d.
#include "runtime/reference.h"

namespace convjit {

void reference_conv1d(const conv1d_spec& spec, const ncl_shape& in, const float* src, const float* wei,
                      const float* bias, float* dst) {
  const ncl_shape out = output_shape(spec, in);
  const std::int64_t cin_g = spec.in_channels_per_group(), cout_g = spec.out_channels_per_group();
  for (std::int64_t n = 0; n < out.n; ++n) {
    for (std::int64_t o = 0; o < out.c; ++o) {
      const std::int64_t first_channel = o / cout_g * cin_g;
      for (std::int64_t t = 0; t < out.l; ++t) {
        double acc = bias ? bias[o] : 0.0;
        for (std::int64_t c = 0; c < cin_g; ++c) {
          const float* x = src + (n * in.c + first_channel + c) * in.l;
          const float* w = wei + (o * cin_g + c) * spec.kernel_size;
          for (std::int64_t k = 0; k < spec.kernel_size; ++k) {
            const std::int64_t i =
                source_position(spec.mode, t * spec.stride + k * spec.dilation - spec.pad_left(), in.l);
            if (i >= 0) acc += double{w[k]} * double{x[i]};
          }
        }
        dst[(n * out.c + o) * out.l + t] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace convjit
