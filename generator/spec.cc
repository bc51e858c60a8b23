// SPDX-License-Identifier: MIT
// nn.Conv1d's checks, shapes and canonical spelling.
#include "generator/spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "generator/error.h"

namespace convjit {
namespace {

// a*b, or a size_overflow error naming `what`.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw error(errc::size_overflow, fmt::format("{} overflows a 64-bit size ({} * {})", what, a, b));
  return r;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw error(errc::size_overflow, fmt::format("{} overflows a 64-bit size ({} + {})", what, a, b));
  return r;
}

// A float tensor's element count must also fit as a byte count.
void check_tensor_size(std::int64_t a, std::int64_t b, std::int64_t c, std::string_view what) {
  checked_mul(checked_mul(checked_mul(a, b, what), c, what), std::int64_t{sizeof(float)}, what);
}

// PyTorch's forward checks, in its order (golden README). Without dims, only
// the checks that hold for every input run: that is what a layer is created with.
ncl_shape run_forward_checks(const conv1d_spec& spec, const std::span<const std::int64_t>* dims) {
  ncl_shape in;
  if (dims) {
    if (dims->size() != 2 && dims->size() != 3)
      throw error(errc::input_dim,
                  fmt::format("Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: {}",
                              format_dims(*dims)));
    in.batched = dims->size() == 3;
    in.n = in.batched ? (*dims)[0] : 1;
    in.c = (*dims)[dims->size() - 2];
    in.l = (*dims)[dims->size() - 1];
    for (std::int64_t d : *dims)
      if (d < 0)
        throw error(errc::invalid_argument, fmt::format("input size {} has a negative dimension", format_dims(*dims)));
  }
  const std::int64_t pl = spec.pad_left(), pr = spec.pad_right();
  if (dims && spec.mode == padding_mode::reflect && (pl >= in.l || pr >= in.l))
    throw error(errc::reflect_pad_too_large,
                fmt::format("reflect padding ({}, {}) must be less than the input length {} of input {}", pl, pr,
                            in.l, format_dims(*dims)));
  if (dims && spec.mode == padding_mode::circular && (pl > in.l || pr > in.l))
    throw error(errc::circular_pad_too_large,
                fmt::format("circular padding ({}, {}) wraps around more than once: input length is {}", pl, pr, in.l));
  if (dims && spec.mode == padding_mode::replicate && in.l == 0 && in.n > 0 && in.c > 0)
    throw error(errc::zero_length_input,
                fmt::format("replicate padding needs a non-empty input, but got input shape: {}", format_dims(*dims)));
  if (pl < 0 || pr < 0)
    throw error(errc::padding_negative, fmt::format("negative padding is not supported (padding={})", spec.padding));
  if (spec.stride <= 0)
    throw error(errc::stride_nonpositive, fmt::format("non-positive stride is not supported (stride={})", spec.stride));
  if (spec.dilation <= 0)
    throw error(errc::dilation_nonpositive,
                fmt::format("dilation should be greater than zero, but got dilation={}", spec.dilation));
  if (spec.out_channels < spec.groups)
    throw error(errc::out_channels_zero,
                fmt::format("Given groups={}, expected weight to be at least {} at dimension 0, but got out_channels={}",
                            spec.groups, spec.groups, spec.out_channels));
  if (dims && in.c != spec.in_channels)
    throw error(errc::channel_mismatch,
                fmt::format("Given groups={}, weight of size ({}, {}, {}), expected input{} to have {} channels, but "
                            "got {} channels instead",
                            spec.groups, spec.out_channels, spec.in_channels_per_group(), spec.kernel_size,
                            format_dims(*dims), spec.in_channels, in.c));
  if (dims) {
    const std::int64_t padded = checked_add(checked_add(in.l, pl, "padded input length"), pr, "padded input length");
    if (padded < spec.receptive_field())
      throw error(errc::kernel_gt_input,
                  fmt::format("Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size can't "
                              "be greater than actual input size",
                              padded, spec.receptive_field()));
    if (in.l == 0 && in.n > 0 && in.c > 0)
      throw error(errc::zero_length_input,
                  fmt::format("Only zero batch or zero channel inputs are supported, but got input shape: {}",
                              format_dims(*dims)));
  }
  if (spec.kernel_size <= 0)
    throw error(errc::kernel_nonpositive,
                fmt::format("kernel size should be greater than zero, but got kernel_size={}", spec.kernel_size));
  if (dims) {
    check_tensor_size(in.n, in.c, in.l, "input");
    const ncl_shape out = output_shape(spec, in);
    check_tensor_size(out.n, out.c, out.l, "output");
  }
  return in;
}

}  // namespace

std::int64_t conv1d_spec::pad_left() const {
  if (padding_kind == padding_kind::explicit_value) return padding;
  // 'same': total = dilation*(K-1), the odd element on the right. A
  // non-positive dilation or kernel is reported by its own check, not as padding.
  if (dilation <= 0 || kernel_size <= 0) return 0;
  return dilation * (kernel_size - 1) / 2;
}

std::int64_t conv1d_spec::pad_right() const {
  if (padding_kind == padding_kind::explicit_value) return padding;
  if (dilation <= 0 || kernel_size <= 0) return 0;
  return dilation * (kernel_size - 1) - pad_left();
}

std::int64_t conv1d_spec::weight_count() const {
  return out_channels * in_channels_per_group() * kernel_size;
}

std::vector<std::int64_t> ncl_shape::dims() const {
  if (batched) return {n, c, l};
  return {c, l};
}

conv1d_spec make_spec(const conv1d_constructor_args& a) {
  if (a.groups <= 0)
    throw error(errc::groups_nonpositive, fmt::format("groups must be a positive integer, got groups={}", a.groups));
  if (a.in_channels % a.groups != 0)
    throw error(errc::in_channels_not_divisible,
                fmt::format("in_channels must be divisible by groups (in_channels={}, groups={})", a.in_channels,
                            a.groups));
  if (a.out_channels % a.groups != 0)
    throw error(errc::out_channels_not_divisible,
                fmt::format("out_channels must be divisible by groups (out_channels={}, groups={})", a.out_channels,
                            a.groups));
  conv1d_spec s;
  s.in_channels = a.in_channels;
  s.out_channels = a.out_channels;
  s.kernel_size = a.kernel_size;
  s.stride = a.stride;
  s.dilation = a.dilation;
  s.groups = a.groups;
  s.bias = a.bias;
  s.padding = a.padding;
  if (!a.padding_text.empty()) {
    s.padding = 0;
    if (a.padding_text == "same") {
      s.padding_kind = padding_kind::same;
    } else if (a.padding_text != "valid") {
      throw error(errc::invalid_padding_string,
                  fmt::format("Invalid padding string '{}', should be one of {{'same', 'valid'}}", a.padding_text));
    }
    if (s.padding_kind == padding_kind::same && a.stride != 1)
      throw error(errc::same_strided,
                  fmt::format("padding='same' is not supported for strided convolutions (stride={})", a.stride));
  }
  if (a.mode == "zeros") s.mode = padding_mode::zeros;
  else if (a.mode == "reflect") s.mode = padding_mode::reflect;
  else if (a.mode == "replicate") s.mode = padding_mode::replicate;
  else if (a.mode == "circular") s.mode = padding_mode::circular;
  else
    throw error(errc::invalid_padding_mode,
                fmt::format("padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, but got "
                            "padding_mode='{}'",
                            a.mode));
  // PyTorch allocates the weight here, which fails for negative sizes.
  if (s.in_channels < 0 || s.out_channels < 0)
    throw error(errc::channels_negative,
                fmt::format("channels must be non-negative (in_channels={}, out_channels={})", s.in_channels,
                            s.out_channels));
  if (s.kernel_size < 0)
    throw error(errc::kernel_nonpositive,
                fmt::format("kernel size should be greater than zero, but got kernel_size={}", s.kernel_size));
  // Keep every later size computation free of overflow.
  checked_add(checked_mul(s.dilation, s.kernel_size - 1, "receptive field"), 1, "receptive field");
  check_tensor_size(s.out_channels, s.in_channels_per_group(), s.kernel_size, "weight");
  return s;
}

void check_layer(const conv1d_spec& spec) { run_forward_checks(spec, nullptr); }

ncl_shape check_input(const conv1d_spec& spec, std::span<const std::int64_t> dims) {
  return run_forward_checks(spec, &dims);
}

ncl_shape output_shape(const conv1d_spec& spec, const ncl_shape& in) {
  const std::int64_t span = in.l + spec.pad_left() + spec.pad_right() - spec.receptive_field();
  return {in.n, spec.out_channels, span / spec.stride + 1, in.batched};
}

double conv1d_flops(const conv1d_spec& spec, const ncl_shape& input) {
  return 2.0 * double(output_shape(spec, input).count()) * double(spec.in_channels_per_group()) *
         double(spec.kernel_size);
}

std::vector<std::int64_t> output_dims(const conv1d_spec& spec, std::span<const std::int64_t> dims) {
  return output_shape(spec, check_input(spec, dims)).dims();
}

std::string_view padding_mode_name(padding_mode mode) {
  switch (mode) {
    case padding_mode::zeros: return "zeros";
    case padding_mode::reflect: return "reflect";
    case padding_mode::replicate: return "replicate";
    case padding_mode::circular: return "circular";
  }
  return "zeros";
}

std::string to_string(const conv1d_spec& s) {
  std::string out = fmt::format("Conv1d({}, {}, {}", s.in_channels, s.out_channels, s.kernel_size);
  if (s.stride != 1) out += fmt::format(", stride={}", s.stride);
  if (s.padding_kind == padding_kind::same) out += ", padding='same'";
  else if (s.padding != 0) out += fmt::format(", padding={}", s.padding);
  if (s.dilation != 1) out += fmt::format(", dilation={}", s.dilation);
  if (s.groups != 1) out += fmt::format(", groups={}", s.groups);
  if (!s.bias) out += ", bias=False";
  if (s.mode != padding_mode::zeros) out += fmt::format(", padding_mode='{}'", padding_mode_name(s.mode));
  return out + ")";
}

std::int64_t source_position(padding_mode mode, std::int64_t i, std::int64_t length) {
  if (i >= 0 && i < length) return i;
  switch (mode) {
    case padding_mode::zeros: return -1;
    case padding_mode::reflect: return i < 0 ? -i : 2 * (length - 1) - i;  // the edge is not repeated
    case padding_mode::replicate: return i < 0 ? 0 : length - 1;
    case padding_mode::circular: return ((i % length) + length) % length;
  }
  return -1;
}

std::string format_dims(std::span<const std::int64_t> dims) {
  if (dims.size() == 1) return fmt::format("({},)", dims[0]);
  return fmt::format("({})", fmt::join(dims, ", "));
}

}  // namespace convjit
