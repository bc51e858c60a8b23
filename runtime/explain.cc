// SPDX-License-Identifier: MIT
// The `convjit explain` text.
#include "runtime/explain.h"

#include <fmt/format.h>

namespace convjit {
namespace {

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// "input positions 99 to 101 (100..101 are padding: zeros)"
std::string window_sentence(const conv1d_spec& s, std::int64_t t, std::int64_t length) {
  const std::int64_t first = t * s.stride - s.pad_left();
  const std::int64_t last = first + (s.kernel_size - 1) * s.dilation;
  std::string text = s.kernel_size == 1 ? fmt::format("input position {}", first)
                                        : fmt::format("input positions {} to {}", first, last);
  if (s.dilation > 1 && s.kernel_size > 1) text += fmt::format(" in steps of {}", s.dilation);
  std::int64_t padded = 0;
  for (std::int64_t k = 0; k < s.kernel_size; ++k) {
    const std::int64_t i = first + k * s.dilation;
    padded += i < 0 || i >= length;
  }
  if (padded == s.kernel_size) {
    text += fmt::format(", all of them padding ({})", padding_mode_name(s.mode));
  } else if (padded > 0) {
    text += fmt::format(", {} of its {} taps {} padding ({})", padded, s.kernel_size, padded == 1 ? "is" : "are",
                        padding_mode_name(s.mode));
  }
  return text;
}

}  // namespace

std::string explain(const conv1d_spec& s, std::span<const std::int64_t> input_dims) {
  check_layer(s);
  std::string text;
  auto row = [&](std::string_view key, const std::string& value) { text += fmt::format("{:<16} {}\n", key, value); };
  ncl_shape in, out;
  const bool with_input = !input_dims.empty();
  if (with_input) {
    in = check_input(s, input_dims);
    out = output_shape(s, in);
  }
  const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
  row("layer", to_string(s));
  if (with_input) {
    row("input", format_dims(input_dims));
    row("output", format_dims(out.dims()));
  }
  row("padding", fmt::format("{} left, {} right, {}{}", s.pad_left(), s.pad_right(), padding_mode_name(s.mode),
                             s.padding_kind == padding_kind::same ? " ('same')" : ""));
  row("weight", format_dims(std::vector<std::int64_t>{s.out_channels, cin_g, s.kernel_size}));
  row("bias", s.bias ? format_dims(std::vector<std::int64_t>{s.out_channels}) : std::string("none"));
  row("parameters", fmt::format("{}", s.weight_count() + s.bias_count()));
  if (with_input) row("FLOPs", fmt::format("{:.0f} (2 per multiply-add)", conv1d_flops(s, in)));
  row("receptive field", fmt::format("{} (kernel {}, dilation {})", plural(s.receptive_field(), "input position",
                                                                           "input positions"),
                                     s.kernel_size, s.dilation));
  row("output length", fmt::format("floor((L_in + {} - {}) / {}) + 1", s.pad_left() + s.pad_right(),
                                   s.receptive_field(), s.stride));
  text += "\n";

  text += fmt::format("There {} {}, each of shape ({}, {}): ", s.out_channels == 1 ? "is" : "are",
                      plural(s.out_channels, "filter", "filters"), cin_g, s.kernel_size);
  if (s.groups == 1) {
    text += fmt::format("every filter reads all {} over {}.\n", plural(s.in_channels, "input channel", "input channels"),
                        plural(s.kernel_size, "position", "positions"));
  } else {
    text += fmt::format("the {} input channels form {} of {}, and each group's {} {} only that group's {}{}.\n",
                        s.in_channels, plural(s.groups, "group", "groups"), cin_g,
                        plural(cout_g, "filter", "filters"), cout_g == 1 ? "reads" : "read",
                        plural(cin_g, "channel", "channels"),
                        s.groups == s.in_channels ? " (a depthwise convolution)" : "");
  }
  const std::string start = (s.stride == 1 ? std::string("t") : fmt::format("{}t", s.stride)) +
                            (s.pad_left() ? fmt::format("{:+d}", -s.pad_left()) : std::string());
  if (s.kernel_size == 1)
    text += fmt::format("Output position t reads input position {}.\n", start);
  else if (s.dilation == 1)
    text += fmt::format("Output position t reads the {} consecutive input positions from {}.\n", s.kernel_size, start);
  else
    text += fmt::format("Output position t reads {} input positions from {}, {} apart.\n", s.kernel_size, start,
                        s.dilation);
  if (with_input && out.l > 0) {
    text += fmt::format("The first output (t = 0) reads {}.\n", window_sentence(s, 0, in.l));
    if (out.l > 1) text += fmt::format("The last output (t = {}) reads {}.\n", out.l - 1, window_sentence(s, out.l - 1, in.l));
    const std::int64_t covered_end = (out.l - 1) * s.stride - s.pad_left() + s.receptive_field();
    if (covered_end < in.l)
      text += fmt::format("Input positions {} to {} are read by no output: the last stride step stops short.\n",
                          covered_end, in.l - 1);
  }
  return text;
}

}  // namespace convjit
