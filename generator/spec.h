// SPDX-License-Identifier: MIT
// conv1d_spec: one torch.nn.Conv1d layer, with PyTorch's semantics and checks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace convjit {

enum class padding_mode : std::uint8_t { zeros, reflect, replicate, circular };

/** How the constructor's `padding` was given. 'valid' is stored as explicit 0:
 * the two behave identically in every padding mode. */
enum class padding_kind : std::uint8_t { explicit_value, same };

/** The constructor arguments of torch.nn.Conv1d as a user wrote them, before
 * any check: strings stay strings so that checks run in PyTorch's order. */
struct conv1d_constructor_args {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel_size = 0;
  std::int64_t stride = 1;
  std::int64_t padding = 0;     // used when padding_text is empty
  std::string padding_text;     // "same", "valid" or anything else given as a string
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  std::string mode = "zeros";
};

/** A validated nn.Conv1d layer, float32. Plain data; equal specs compute the
 * same function. Dilation is 1-based as in PyTorch.
 *
 * **Example**:
 *   auto spec = convjit::parse_spec("Conv1d(40, 10, 3, stride=2, padding=3)");
 *   auto out = convjit::output_dims(spec, {40, 40, 100});  // {40, 10, 52}
 */
struct conv1d_spec {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel_size = 0;
  std::int64_t stride = 1;
  convjit::padding_kind padding_kind = padding_kind::explicit_value;
  std::int64_t padding = 0;  // the constructor's value when explicit
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  padding_mode mode = padding_mode::zeros;

  bool operator==(const conv1d_spec&) const = default;

  std::int64_t pad_left() const;   // effective, as PyTorch applies it
  std::int64_t pad_right() const;  // 'same' puts the odd element here
  std::int64_t in_channels_per_group() const { return in_channels / groups; }
  std::int64_t out_channels_per_group() const { return out_channels / groups; }
  /** Input positions one output reads: dilation*(K-1)+1. */
  std::int64_t receptive_field() const { return dilation * (kernel_size - 1) + 1; }
  /** Elements of the weight (C_out, C_in/groups, K) and the bias (C_out or 0). */
  std::int64_t weight_count() const;
  std::int64_t bias_count() const { return bias ? out_channels : 0; }
};

/** A batched view of an input or output: unbatched (C, L) is (1, C, L). */
struct ncl_shape {
  std::int64_t n = 0, c = 0, l = 0;
  bool batched = true;
  std::int64_t count() const { return n * c * l; }
  std::vector<std::int64_t> dims() const;  // (N, C, L) or (C, L)
};

/** Runs nn.Conv1d's constructor checks in PyTorch's order; throws
 * convjit::error. */
conv1d_spec make_spec(const conv1d_constructor_args& args);

/** Checks that reject a layer for every input (PyTorch raises them at the first
 * forward; convjit at creation), and that its weight size fits. Throws. */
void check_layer(const conv1d_spec& spec);

/** PyTorch's forward checks on an input of the given dims, in PyTorch's order,
 * plus size overflow. Returns the input as (N, C, L). Throws convjit::error. */
ncl_shape check_input(const conv1d_spec& spec, std::span<const std::int64_t> dims);

/** The output of a checked input: (N, C_out, L_out), batched as the input. */
ncl_shape output_shape(const conv1d_spec& spec, const ncl_shape& input);

/** FLOPs of one forward on a checked input, 2 per multiply-add:
 * 2 * N * C_out * L_out * C_in/groups * K. */
double conv1d_flops(const conv1d_spec& spec, const ncl_shape& input);

/** check_input() then output_shape(), as dims. Throws convjit::error. */
std::vector<std::int64_t> output_dims(const conv1d_spec& spec,
                                      std::span<const std::int64_t> dims);

/** The canonical PyTorch spelling, e.g. "Conv1d(40, 10, 3, stride=2,
 * padding=3)". parse_spec(to_string(s)) == s. */
std::string to_string(const conv1d_spec& spec);

std::string_view padding_mode_name(padding_mode mode);

/** Parses the PyTorch constructor call (positional or keyword, optional `nn.` or
 * `torch.nn.`) or its print(model) repr, e.g. "Conv1d(80, 384,
 * kernel_size=(3,), stride=(2,), padding=(1,))". Throws convjit::error:
 * parse_error with the offending column, or the constructor's error code. */
conv1d_spec parse_spec(std::string_view text);

/** The arguments alone, unchecked; parse_spec() is make_spec(parse_args()).
 * `consumed` receives how many characters the call took (trailing text is an
 * error unless it is requested). */
conv1d_constructor_args parse_args(std::string_view text, std::size_t* consumed = nullptr);

/** Parses "N,C,L", "C,L", "(N, C, L)" or "[N, C, L]" into dims. Throws
 * parse_error. */
std::vector<std::int64_t> parse_dims(std::string_view text);

/** The input position that padded position `i` (0 = first real element) reads
 * under `mode`, for an input of length `length`; -1 where it reads a zero. */
std::int64_t source_position(padding_mode mode, std::int64_t i, std::int64_t length);

/** "(40, 10, 52)" */
std::string format_dims(std::span<const std::int64_t> dims);

}  // namespace convjit
