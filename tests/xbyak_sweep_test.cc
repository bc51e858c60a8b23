// SPDX-License-Identifier: MIT
// A randomized sweep of 2,160 layers through the Xbyak backend at AVX-512 and
// AVX2, against the reference and against each other: channels 1..300, kernel
// 1..64, stride 1..8, dilation 1..32, dense, grouped and depthwise, every
// padding mode, output lengths down to 1, batched and not.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "generator/plan.h"
#include "runtime/conv1d.h"
#include "runtime/reference.h"
#include "tests/backend_configs.h"

namespace convjit {
namespace {

constexpr int kShards = 8, kCasesPerShard = 270;
constexpr double kMaxFlops = 4e6;  // per case, so the reference stays quick

struct sweep_case {
  conv1d_spec spec;
  std::vector<std::int64_t> dims;
};

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

class xbyak_sweep_test : public ::testing::TestWithParam<int> {};

TEST_P(xbyak_sweep_test, matches_reference_at_every_isa) {
  std::mt19937 rng(20261121u + unsigned(GetParam()));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  int ran = 0;
  for (int i = 0; i < kCasesPerShard; ++i) {
    const sweep_case c = random_case(rng);
    const conv1d_spec& s = c.spec;
    SCOPED_TRACE(to_string(s) + " on " + format_dims(c.dims));
    const ncl_shape in = check_input(s, c.dims), out = output_shape(s, in);
    std::vector<float> x(std::size_t(in.count())), w(std::size_t(s.weight_count())), b(std::size_t(s.bias_count()));
    for (auto* v : {&x, &w, &b})
      for (float& f : *v) f = value(rng);
    std::vector<float> expected(std::size_t(out.count()));
    reference_conv1d(s, in, x.data(), w.data(), s.bias ? b.data() : nullptr, expected.data());
    const double tolerance = 1e-5 + 2e-6 * double(s.in_channels_per_group() * s.kernel_size);
    std::vector<std::vector<float>> results;
    for (const auto& config : testing::all_backend_configs()) {
      if (config.b != backend::xbyak || !config.missing().empty()) continue;
      const auto layer = conv1d::create(s, w, b, config.options());
      ASSERT_EQ(layer.selected_backend(), backend::xbyak);
      std::vector<float> y(std::size_t(out.count()), NAN);
      layer.forward(x, c.dims, y);
      for (std::size_t e = 0; e < y.size(); ++e)
        ASSERT_NEAR(y[e], expected[e], tolerance) << config.name() << " element " << e << " of " << format_dims(out.dims());
      results.push_back(std::move(y));
    }
    for (std::size_t r = 1; r < results.size(); ++r)  // AVX-512 and AVX2 agree
      for (std::size_t e = 0; e < results[0].size(); ++e) ASSERT_NEAR(results[r][e], results[0][e], 2 * tolerance);
    ran += !results.empty();
  }
  if (ran == 0) GTEST_SKIP() << "this host has no ISA the Xbyak backend generates for";
  EXPECT_EQ(ran, kCasesPerShard);
}

INSTANTIATE_TEST_SUITE_P(shard, xbyak_sweep_test, ::testing::Range(0, kShards));

// Wide dilations get tap-segment windows: every padding mode, strided or not,
// against the reference at every ISA.
TEST(xbyak_wide_dilation_test, compact_windows_match_reference) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  int ran = 0;
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(12, 20, 3, padding=200, dilation=200, padding_mode='{}')",
                              "Conv1d(6, 9, 4, stride=3, padding=90, dilation=60, padding_mode='{}')",
                              "Conv1d(16, 16, 5, padding='same', dilation=150, groups=16, padding_mode='{}')"}) {
      std::string text = shape;
      text.replace(text.find("{}"), 2, mode);
      const conv1d_spec s = parse_spec(text);
      SCOPED_TRACE(text);
      std::string why;
      ASSERT_TRUE(make_plan(s, isa::avx512, &why)->compact_windows) << why;
      const std::vector<std::int64_t> dims = {2, s.in_channels, 700};
      const ncl_shape in = check_input(s, dims), out = output_shape(s, in);
      std::vector<float> x(std::size_t(in.count())), w(std::size_t(s.weight_count())), b(std::size_t(s.bias_count()));
      for (auto* v : {&x, &w, &b})
        for (float& f : *v) f = value(rng);
      std::vector<float> expected(std::size_t(out.count()));
      reference_conv1d(s, in, x.data(), w.data(), b.data(), expected.data());
      for (const auto& config : testing::all_backend_configs()) {
        if (config.b != backend::xbyak || !config.missing().empty()) continue;
        std::vector<float> y(expected.size(), NAN);
        conv1d::create(s, w, b, config.options()).forward(x, dims, y);
        for (std::size_t e = 0; e < y.size(); ++e) ASSERT_NEAR(y[e], expected[e], 1e-4) << config.name() << " at " << e;
        ++ran;
      }
    }
  if (ran == 0) GTEST_SKIP() << "this host has no ISA the Xbyak backend generates for";
}

}  // namespace
}  // namespace convjit
