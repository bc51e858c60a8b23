// SPDX-License-Identifier: MIT
// The spec: parsing, canonical form, PyTorch's checks and shapes.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "generator/error.h"
#include "generator/spec.h"

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

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

using dims = std::vector<std::int64_t>;

TEST(spec_test, seed_examples_have_pytorch_shapes) {
  EXPECT_EQ(output_dims(parse_spec("Conv1d(1,64,3,padding=1)"), dims{10, 1, 100}), (dims{10, 64, 100}));
  EXPECT_EQ(output_dims(parse_spec("Conv1d(40,10,3,stride=2,padding=3)"), dims{40, 40, 100}), (dims{40, 10, 52}));
  EXPECT_EQ(output_dims(parse_spec("Conv1d(100,100,1)"), dims{32, 100, 1}), (dims{32, 100, 1}));
  EXPECT_EQ(output_dims(parse_spec("Conv1d(5,5,3)"), dims{239, 5, 49}), (dims{239, 5, 47}));
  EXPECT_EQ(output_dims(parse_spec("Conv1d(5,5,49,groups=5,bias=False)"), dims{239, 5, 49}), (dims{239, 5, 1}));
}

TEST(spec_test, parses_positional_and_keyword) {
  const conv1d_spec s = parse_spec("Conv1d(40, 10, 3, stride=2, padding=3)");
  EXPECT_EQ(s.in_channels, 40);
  EXPECT_EQ(s.out_channels, 10);
  EXPECT_EQ(s.kernel_size, 3);
  EXPECT_EQ(s.stride, 2);
  EXPECT_EQ(s.padding, 3);
  EXPECT_TRUE(s.bias);
  EXPECT_EQ(s, parse_spec("Conv1d(in_channels=40, out_channels=10, kernel_size=3, stride=2, padding=3)"));
  EXPECT_EQ(s, parse_spec("torch.nn.Conv1d(40, 10, 3, 2, 3)"));
  EXPECT_EQ(s, parse_spec("  nn.Conv1d( 40,10,3 , stride = (2,), padding=[3], ) "));
  const conv1d_spec all = parse_spec("Conv1d(6, 4, 5, 2, 1, 3, 2, False, 'reflect', 'cpu', torch.float32)");
  EXPECT_EQ(all.dilation, 3);
  EXPECT_EQ(all.groups, 2);
  EXPECT_FALSE(all.bias);
  EXPECT_EQ(all.mode, padding_mode::reflect);
  EXPECT_EQ(parse_spec("Conv1d(1_000, 2, 3)").in_channels, 1000);
  EXPECT_EQ(parse_spec("Conv1d(4, 4, 3, padding=\"same\", padding_mode=\"circular\")").mode, padding_mode::circular);
}

TEST(spec_test, parses_print_model_repr) {
  const conv1d_spec s = parse_spec("Conv1d(80, 384, kernel_size=(3,), stride=(2,), padding=(1,))");
  EXPECT_EQ(s, parse_spec("Conv1d(80, 384, 3, stride=2, padding=1)"));
  // print(model) writes strings unquoted.
  const conv1d_spec t =
      parse_spec("Conv1d(4, 4, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=4, bias=False, "
                 "padding_mode=circular)");
  EXPECT_EQ(t.padding_kind, padding_kind::same);
  EXPECT_EQ(t.mode, padding_mode::circular);
  EXPECT_EQ(t.groups, 4);
  EXPECT_FALSE(t.bias);
}

TEST(spec_test, canonical_string_round_trips) {
  for (const char* text : {"Conv1d(40, 10, 3, stride=2, padding=3)", "Conv1d(5, 5, 49, groups=5, bias=False)",
                           "Conv1d(4, 4, 3, padding='same', padding_mode='circular')",
                           "Conv1d(4, 8, 2, stride=3, padding=2, dilation=7, groups=2, bias=False, "
                           "padding_mode='replicate')",
                           "Conv1d(1, 1, 1)"}) {
    EXPECT_EQ(to_string(parse_spec(text)), text);
  }
  // 'valid' is padding 0 in every mode, so it has one canonical form.
  EXPECT_EQ(to_string(parse_spec("Conv1d(2, 2, 3, padding='valid', padding_mode='reflect')")),
            "Conv1d(2, 2, 3, padding_mode='reflect')");
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    conv1d_constructor_args a;
    a.groups = std::uniform_int_distribution<std::int64_t>(1, 4)(rng);
    a.in_channels = a.groups * std::uniform_int_distribution<std::int64_t>(0, 9)(rng);
    a.out_channels = a.groups * std::uniform_int_distribution<std::int64_t>(0, 9)(rng);
    a.kernel_size = std::uniform_int_distribution<std::int64_t>(0, 9)(rng);
    a.stride = std::uniform_int_distribution<std::int64_t>(-1, 4)(rng);
    a.dilation = std::uniform_int_distribution<std::int64_t>(-1, 4)(rng);
    a.padding = std::uniform_int_distribution<std::int64_t>(-2, 5)(rng);
    a.bias = rng() % 2;
    a.mode = std::array{"zeros", "reflect", "replicate", "circular"}[rng() % 4];
    if (rng() % 4 == 0 && a.stride == 1) a.padding_text = "same";
    const conv1d_spec s = make_spec(a);
    EXPECT_EQ(parse_spec(to_string(s)), s) << to_string(s);
  }
}

TEST(spec_test, effective_padding_matches_pytorch) {
  const conv1d_spec even = parse_spec("Conv1d(1, 1, 4, padding='same')");  // total 3: 1 left, 2 right
  EXPECT_EQ(even.pad_left(), 1);
  EXPECT_EQ(even.pad_right(), 2);
  const conv1d_spec dilated = parse_spec("Conv1d(1, 1, 3, padding='same', dilation=3)");
  EXPECT_EQ(dilated.pad_left(), 3);
  EXPECT_EQ(dilated.pad_right(), 3);
  EXPECT_EQ(output_dims(even, dims{1, 7}), (dims{1, 7}));
  const conv1d_spec valid = parse_spec("Conv1d(1, 1, 3, padding='valid')");
  EXPECT_EQ(valid.pad_left() + valid.pad_right(), 0);
}

TEST(spec_test, malformed_strings_point_at_the_column) {
  struct bad {
    const char* text;
    std::size_t column;
    const char* says;
  };
  for (const bad& b : {bad{"Conv1d(40, 10 3)", 15, "expected ')' or ','"},
                       bad{"Conv2d(1, 1, 3)", 1, "expected Conv1d"},
                       bad{"Conv1d(1, 1, 3", 15, "expected ')'"},
                       bad{"Conv1d(1, 1, 3, strid=2)", 17, "unexpected keyword argument 'strid'"},
                       bad{"Conv1d(1, 1, kernel_size=3, 2)", 29, "positional argument follows keyword"},
                       bad{"Conv1d(1, 1, 3, 1, stride=2)", 20, "multiple values for argument 'stride'"},
                       bad{"Conv1d(1, 1)", 12, "missing the required argument 'kernel_size'"},
                       bad{"Conv1d(1, 1, (3, 3))", 14, "takes one value, got 2"},
                       bad{"Conv1d(1, 1, 3, bias=maybe)", 22, "bias must be True or False"},
                       bad{"Conv1d(1, 1, 3, padding='same)", 25, "unterminated string"},
                       bad{"Conv1d(1, 1, 3) extra", 17, "after the closing ')'"},
                       bad{"Conv1d(1, 1, 3x)", 15, "expected an integer"},
                       bad{"Conv1d(1, 1, 3, groups=(1,))", 24, "groups must be an integer"},
                       bad{"", 1, "expected Conv1d(...)"}}) {
    const std::string message = message_of([&] { parse_spec(b.text); });
    EXPECT_EQ(code_of([&] { parse_spec(b.text); }), errc::parse_error) << b.text;
    EXPECT_NE(message.find(b.says), std::string::npos) << b.text << " -> " << message;
    EXPECT_NE(message.find("at column " + std::to_string(b.column)), std::string::npos) << b.text << " -> "
                                                                                         << message;
  }
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(99999999999999999999, 1, 3)"); }), errc::size_overflow);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(1, 1, 3, dtype=torch.float16)"); }), errc::unsupported_dtype);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(1, 1, 3, device='cuda')"); }), errc::invalid_argument);
}

TEST(spec_test, constructor_errors_in_pytorch_order) {
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(2, 2, 2, groups=0, padding='foo')"); }), errc::groups_nonpositive);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(2, 2, 2, groups=3)"); }), errc::in_channels_not_divisible);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(3, 2, 2, groups=3)"); }), errc::out_channels_not_divisible);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(3, 3, 2, padding='foo', stride=2)"); }), errc::invalid_padding_string);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(3, 3, 2, padding='same', stride=2)"); }), errc::same_strided);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(3, 3, 2, padding_mode='xyz')"); }), errc::invalid_padding_mode);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(-3, 3, 2)"); }), errc::channels_negative);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(3, 3, -2)"); }), errc::kernel_nonpositive);
  EXPECT_NE(message_of([] { parse_spec("Conv1d(3, 3, 2, padding_mode='xyz')"); }).find("'xyz'"), std::string::npos);
}

TEST(spec_test, forward_errors_in_pytorch_order) {
  auto check = [](const char* spec, dims d) { return code_of([&] { check_input(parse_spec(spec), d); }); };
  EXPECT_EQ(check("Conv1d(3, 8, 3, stride=0)", dims{3}), errc::input_dim);
  EXPECT_EQ(check("Conv1d(3, 8, 3)", dims{1, 1, 3, 3}), errc::input_dim);
  EXPECT_EQ(check("Conv1d(1, 1, 3, padding=3, padding_mode='reflect')", dims{1, 1, 3}), errc::reflect_pad_too_large);
  EXPECT_EQ(check("Conv1d(1, 1, 3, padding=2, padding_mode='reflect')", dims{1, 1, 3}), errc::ok);
  EXPECT_EQ(check("Conv1d(1, 1, 3, padding=4, padding_mode='circular')", dims{1, 1, 3}), errc::circular_pad_too_large);
  EXPECT_EQ(check("Conv1d(1, 1, 3, padding=3, padding_mode='circular')", dims{1, 1, 3}), errc::ok);
  EXPECT_EQ(check("Conv1d(1, 1, 2, padding=-1, stride=0)", dims{1, 1, 4}), errc::padding_negative);
  EXPECT_EQ(check("Conv1d(1, 1, 2, stride=0, dilation=0)", dims{1, 1, 4}), errc::stride_nonpositive);
  EXPECT_EQ(check("Conv1d(1, 1, 2, dilation=-1)", dims{1, 1, 4}), errc::dilation_nonpositive);
  EXPECT_EQ(check("Conv1d(1, 0, 2)", dims{1, 1, 4}), errc::out_channels_zero);
  EXPECT_EQ(check("Conv1d(4, 5, 3)", dims{2, 3, 10}), errc::channel_mismatch);
  EXPECT_EQ(check("Conv1d(3, 33, 10)", dims{1, 3, 4}), errc::kernel_gt_input);
  EXPECT_EQ(check("Conv1d(3, 3, 3, dilation=4)", dims{1, 3, 8}), errc::kernel_gt_input);
  EXPECT_EQ(check("Conv1d(2, 2, 1, padding=1)", dims{1, 2, 0}), errc::zero_length_input);
  EXPECT_EQ(check("Conv1d(2, 2, 0)", dims{1, 2, 4}), errc::kernel_nonpositive);
  EXPECT_EQ(check("Conv1d(2, 2, 3)", dims{0, 2, 4}), errc::ok);  // zero batch
  EXPECT_EQ(check("Conv1d(2, 2, 3)", dims{2, -4}), errc::invalid_argument);
  EXPECT_NE(message_of([] { check_input(parse_spec("Conv1d(4, 5, 3)"), dims{2, 3, 10}); }).find("3 channels"),
            std::string::npos);
}

TEST(spec_test, layer_checks_are_the_input_independent_forward_checks) {
  EXPECT_EQ(code_of([] { check_layer(parse_spec("Conv1d(1, 1, 2, stride=0)")); }), errc::stride_nonpositive);
  EXPECT_EQ(code_of([] { check_layer(parse_spec("Conv1d(1, 1, 2, padding=-1)")); }), errc::padding_negative);
  EXPECT_EQ(code_of([] { check_layer(parse_spec("Conv1d(1, 1, 0)")); }), errc::kernel_nonpositive);
  EXPECT_EQ(code_of([] { check_layer(parse_spec("Conv1d(1, 1, 3, padding=5, padding_mode='reflect')")); }), errc::ok);
}

TEST(spec_test, sizes_that_overflow_are_errors) {
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(4294967296, 4294967296, 4294967296)"); }), errc::size_overflow);
  EXPECT_EQ(code_of([] { parse_spec("Conv1d(1, 1, 4611686018427387904, dilation=4)"); }), errc::size_overflow);
  const conv1d_spec s = parse_spec("Conv1d(1, 1, 1)");
  EXPECT_EQ(code_of([&] { check_input(s, dims{big, 1, 2}); }), errc::size_overflow);
  EXPECT_EQ(code_of([&] { check_input(s, dims{3037000500, 1, 3037000500}); }), errc::size_overflow);
  const conv1d_spec padded = parse_spec("Conv1d(1, 1, 1, padding=9223372036854775807)");
  EXPECT_EQ(code_of([&] { check_input(padded, dims{1, 1, 2}); }), errc::size_overflow);
}

TEST(spec_test, source_position_follows_each_padding_mode) {
  EXPECT_EQ(source_position(padding_mode::zeros, -1, 5), -1);
  EXPECT_EQ(source_position(padding_mode::zeros, 5, 5), -1);
  EXPECT_EQ(source_position(padding_mode::reflect, -2, 5), 2);
  EXPECT_EQ(source_position(padding_mode::reflect, 6, 5), 2);
  EXPECT_EQ(source_position(padding_mode::replicate, -3, 5), 0);
  EXPECT_EQ(source_position(padding_mode::replicate, 7, 5), 4);
  EXPECT_EQ(source_position(padding_mode::circular, -1, 5), 4);
  EXPECT_EQ(source_position(padding_mode::circular, 5, 5), 0);
  EXPECT_EQ(source_position(padding_mode::circular, 3, 5), 3);
}

TEST(spec_test, parses_dims) {
  EXPECT_EQ(parse_dims("40,40,100"), (dims{40, 40, 100}));
  EXPECT_EQ(parse_dims("(4, 10)"), (dims{4, 10}));
  EXPECT_EQ(parse_dims("[1, 2, 3]"), (dims{1, 2, 3}));
  EXPECT_EQ(code_of([] { parse_dims("4,,10"); }), errc::parse_error);
  EXPECT_EQ(code_of([] { parse_dims("4,-1"); }), errc::parse_error);
  EXPECT_EQ(code_of([] { parse_dims(""); }), errc::parse_error);
  EXPECT_EQ(code_of([] { parse_dims("(4, 10"); }), errc::parse_error);
  EXPECT_EQ(format_dims(dims{40, 10, 52}), "(40, 10, 52)");
}

}  // namespace
}  // namespace convjit
