// SPDX-License-Identifier: MIT
// Random Conv1d layers for the sweeps.
#include "tests/random_layers.h"

#include "generator/error.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace convjit::testing {
namespace {

constexpr double kMaxFlops = 4e6;  // per case, so the reference stays quick

}  // namespace

sweep_case random_case(std::mt19937& rng) {
  auto uniform = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  auto log_uniform = [&](std::int64_t lo, std::int64_t hi) {
    const double u = std::uniform_real_distribution<double>(std::log(double(lo)), std::log(double(hi) + 1))(rng);
    return std::clamp<std::int64_t>(std::int64_t(std::exp(u)), lo, hi);
  };
  conv1d_constructor_args a;
  switch (uniform(0, 2)) {
    case 0:  // dense
      a.in_channels = log_uniform(1, 300);
      a.out_channels = log_uniform(1, 300);
      break;
    case 1:  // grouped
      a.groups = log_uniform(2, 16);
      a.in_channels = a.groups * log_uniform(1, 300 / a.groups);
      a.out_channels = a.groups * log_uniform(1, 300 / a.groups);
      break;
    default:  // depthwise, sometimes with a channel multiplier
      a.groups = a.in_channels = log_uniform(1, 300);
      a.out_channels = a.in_channels * (uniform(0, 3) == 0 ? 2 : 1);
  }
  a.kernel_size = log_uniform(1, 64);
  a.stride = uniform(1, 8);
  a.dilation = log_uniform(1, 32);
  a.bias = uniform(0, 3) != 0;
  a.mode = std::array{"zeros", "reflect", "replicate", "circular"}[std::size_t(uniform(0, 3))];
  const std::int64_t field = a.dilation * (a.kernel_size - 1) + 1;
  if (a.stride == 1 && uniform(0, 4) == 0) a.padding_text = "same";
  else a.padding = uniform(0, std::min<std::int64_t>(field, 40));
  // Shrink until the case is cheap for the reference.
  auto flops = [&](std::int64_t l_out) {
    return 2.0 * double(a.out_channels) * double(a.in_channels / a.groups) * double(a.kernel_size) * double(l_out);
  };
  while (a.kernel_size > 1 && flops(1) > kMaxFlops) a.kernel_size /= 2;
  std::int64_t l_out = log_uniform(1, 40);
  while (l_out > 1 && flops(l_out) > kMaxFlops) l_out /= 2;
  sweep_case c{make_spec(a), {}};
  const conv1d_spec& s = c.spec;
  // The shortest input giving l_out, then longer until PyTorch accepts it (reflect needs pad < L_in).
  std::int64_t l_in = std::max<std::int64_t>(1, (l_out - 1) * s.stride + s.receptive_field() - s.pad_left() - s.pad_right());
  const bool batched = uniform(0, 4) != 0;
  const std::int64_t n = uniform(1, 3);
  for (;; ++l_in) {
    c.dims = batched ? std::vector<std::int64_t>{n, s.in_channels, l_in} : std::vector<std::int64_t>{s.in_channels, l_in};
    try {
      check_input(s, c.dims);
      return c;
    } catch (const error&) {
    }
  }
}

}  // namespace convjit::testing
