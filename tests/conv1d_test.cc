// SPDX-License-Identifier: MIT
// The C++ API: creation checks, shapes, buffers, backend selection.
#include <gtest/gtest.h>

#include "runtime/conv1d.h"

namespace convjit {
namespace {

errc code_of(auto&& f) {
  try {
    f();
  } catch (const error& e) {
    return e.code();
  }
  return errc::ok;
}

using dims = std::vector<std::int64_t>;

TEST(conv1d_test, runs_a_seed_layer) {
  const conv1d_spec spec = parse_spec("Conv1d(40, 10, 3, stride=2, padding=3)");
  const std::vector<float> w(static_cast<std::size_t>(spec.weight_count()), 0.5f), b(10, 1.0f);
  const auto layer = conv1d::create(spec, w, b);
  const dims in = {2, 40, 100};
  EXPECT_EQ(layer.output_dims(in), (dims{2, 10, 52}));
  std::vector<float> x(2 * 40 * 100, 1.0f), y(static_cast<std::size_t>(layer.output_count(in)));
  layer.forward(x, in, y);
  EXPECT_EQ(y[0], 1.0f);                 // t=0 reads only padding
  EXPECT_EQ(y[2], 1.0f + 40 * 3 * 0.5f);  // t=2 reads positions 1..3
  EXPECT_EQ(layer.selected_backend(), available_backends().front());
}

TEST(conv1d_test, rejects_wrong_weight_and_bias) {
  const conv1d_spec spec = parse_spec("Conv1d(4, 6, 3, groups=2)");
  const std::vector<float> w(6 * 2 * 3), b(6);
  EXPECT_EQ(code_of([&] { conv1d::create(spec, w, b); }), errc::ok);
  EXPECT_EQ(code_of([&] { conv1d::create(spec, std::vector<float>(6 * 4 * 3), b); }), errc::weight_shape_mismatch);
  EXPECT_EQ(code_of([&] { conv1d::create(spec, w); }), errc::bias_mismatch);
  EXPECT_EQ(code_of([&] { conv1d::create(parse_spec("Conv1d(4, 6, 3, groups=2, bias=False)"), w, b); }),
            errc::bias_mismatch);
  EXPECT_EQ(code_of([&] { conv1d::create(parse_spec("Conv1d(4, 6, 3, stride=0)"), w, b); }),
            errc::stride_nonpositive);
}

TEST(conv1d_test, rejects_buffers_that_do_not_match_the_shape) {
  const auto layer = conv1d::create(parse_spec("Conv1d(2, 2, 3, bias=False)"), std::vector<float>(12));
  const dims in = {1, 2, 8};
  std::vector<float> x(16), y(12);
  EXPECT_EQ(code_of([&] { layer.forward(x, in, y); }), errc::ok);
  EXPECT_EQ(code_of([&] { layer.forward(std::vector<float>(15), in, y); }), errc::buffer_size_mismatch);
  std::vector<float> long_y(13);
  EXPECT_EQ(code_of([&] { layer.forward(x, in, long_y); }), errc::buffer_size_mismatch);
  EXPECT_EQ(code_of([&] { layer.forward(x, dims{1, 3, 8}, y); }), errc::channel_mismatch);
  EXPECT_EQ(code_of([&] { layer.output_dims(dims{8}); }), errc::input_dim);
}

TEST(conv1d_test, unbatched_and_empty_inputs) {
  const auto layer = conv1d::create(parse_spec("Conv1d(2, 3, 3)"), std::vector<float>(18, 1.0f),
                                    std::vector<float>{1, 2, 3});
  EXPECT_EQ(layer.output_dims(dims{2, 5}), (dims{3, 3}));
  EXPECT_EQ(layer.output_dims(dims{0, 2, 5}), (dims{0, 3, 3}));
  std::vector<float> y;
  EXPECT_EQ(code_of([&] { layer.forward(std::vector<float>{}, dims{0, 2, 5}, y); }), errc::ok);
}

TEST(conv1d_test, backend_names) {
  EXPECT_EQ(parse_backend("reference"), backend::reference);
  EXPECT_EQ(code_of([] { parse_backend("cuda"); }), errc::unknown_backend);
  for (backend b : {backend::reference, backend::xbyak, backend::llvm, backend::aot})
    EXPECT_EQ(parse_backend(backend_name(b)), b);
  // A backend this build lacks is refused by name, never silently replaced.
  for (backend b : {backend::xbyak, backend::llvm, backend::aot}) {
    const auto available = available_backends();
    if (std::find(available.begin(), available.end(), b) != available.end()) continue;
    conv1d_options options;
    options.force_backend = b;
    EXPECT_EQ(code_of([&] { conv1d::create(parse_spec("Conv1d(1, 1, 1, bias=False)"), std::vector<float>{1}, {},
                                           options); }),
              errc::backend_unavailable);
  }
}

}  // namespace
}  // namespace convjit
