// SPDX-License-Identifier: MIT
// The reference kernel on cases small enough to check by hand.
#include <gtest/gtest.h>

#include <numeric>

#include "runtime/reference.h"

namespace convjit {
namespace {

std::vector<float> run(const char* text, std::vector<std::int64_t> dims, const std::vector<float>& x,
                       const std::vector<float>& w, const std::vector<float>& b = {}) {
  const conv1d_spec spec = parse_spec(text);
  const ncl_shape in = check_input(spec, dims);
  std::vector<float> y(static_cast<std::size_t>(output_shape(spec, in).count()));
  reference_conv1d(spec, in, x.data(), w.data(), b.empty() ? nullptr : b.data(), y.data());
  return y;
}

using floats = std::vector<float>;

TEST(reference_test, every_padding_mode_by_hand) {
  const floats x = {1, 2, 3, 4};
  const floats pick_left = {1, 0, 0};  // y[t] = xp[t]: shows the left padding
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False)", {1, 4}, x, pick_left), (floats{0, 0, 1, 2, 3, 4}));
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False, padding_mode='reflect')", {1, 4}, x, pick_left),
            (floats{3, 2, 1, 2, 3, 4}));
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False, padding_mode='replicate')", {1, 4}, x, pick_left),
            (floats{1, 1, 1, 2, 3, 4}));
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False, padding_mode='circular')", {1, 4}, x, pick_left),
            (floats{3, 4, 1, 2, 3, 4}));
  const floats pick_right = {0, 0, 1};
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False, padding_mode='reflect')", {1, 4}, x, pick_right),
            (floats{1, 2, 3, 4, 3, 2}));
  EXPECT_EQ(run("Conv1d(1, 1, 3, padding=2, bias=False, padding_mode='circular')", {1, 4}, x, pick_right),
            (floats{1, 2, 3, 4, 1, 2}));
}

TEST(reference_test, stride_dilation_groups_bias) {
  floats x(10);
  std::iota(x.begin(), x.end(), 0.0f);  // (2 channels, 5)
  // Depthwise, dilation 2, stride 2: channel c uses weight c; y = w0*x[t*2] + w1*x[t*2+2] + bias.
  EXPECT_EQ(run("Conv1d(2, 2, 2, stride=2, dilation=2, groups=2)", {2, 5}, x, {1, 1, 1, -1}, {10, 20}),
            (floats{10 + 0 + 2, 10 + 2 + 4, 20 + 5 - 7, 20 + 7 - 9}));
  // Dense 1x1 mixing the two channels.
  EXPECT_EQ(run("Conv1d(2, 1, 1, bias=False)", {1, 2, 5}, x, {1, 10}), (floats{50, 61, 72, 83, 94}));
}

TEST(reference_test, same_padding_puts_the_odd_element_right) {
  // K=2, 'same': pad 0 left, 1 right: y[t] = x[t] + x[t+1] with x[4] = 0.
  EXPECT_EQ(run("Conv1d(1, 1, 2, padding='same', bias=False)", {1, 4}, {1, 2, 3, 4}, {1, 1}),
            (floats{3, 5, 7, 4}));
}

TEST(reference_test, zero_batch_writes_nothing) {
  EXPECT_TRUE(run("Conv1d(2, 3, 3)", {0, 2, 8}, {}, floats(18, 1.0f), floats(3, 1.0f)).empty());
}

}  // namespace
}  // namespace convjit
