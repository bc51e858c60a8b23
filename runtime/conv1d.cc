// SPDX-License-Identifier: MIT
// The C++ API over the spec checks and the backends.
#include "runtime/conv1d.h"

#include <fmt/format.h>

#include <algorithm>

#include "runtime/dispatch.h"
#include "runtime/driver.h"
#include "runtime/kernel.h"
#include "runtime/reference.h"

namespace convjit {

std::string_view backend_name(backend b) {
  switch (b) {
    case backend::reference: return "reference";
    case backend::xbyak: return "xbyak";
    case backend::llvm: return "llvm";
    case backend::aot: return "aot";
  }
  return "reference";
}

backend parse_backend(std::string_view name) {
  for (backend b : {backend::reference, backend::xbyak, backend::llvm, backend::aot})
    if (backend_name(b) == name) return b;
  throw error(errc::unknown_backend,
              fmt::format("unknown backend '{}': expected one of reference, xbyak, llvm, aot", name));
}

conv1d conv1d::create(const conv1d_spec& spec, std::span<const float> weight, std::span<const float> bias,
                      const conv1d_options& options) {
  check_layer(spec);
  if (std::int64_t(weight.size()) != spec.weight_count())
    throw error(errc::weight_shape_mismatch,
                fmt::format("{} expects a weight of shape ({}, {}, {}) = {} floats, but got {} floats", to_string(spec),
                            spec.out_channels, spec.in_channels_per_group(), spec.kernel_size, spec.weight_count(),
                            weight.size()));
  if (std::int64_t(bias.size()) != spec.bias_count())
    throw error(errc::bias_mismatch,
                spec.bias ? fmt::format("{} expects a bias of {} floats, but got {}", to_string(spec),
                                        spec.out_channels, bias.size())
                          : fmt::format("{} has bias=False, but a bias of {} floats was given", to_string(spec),
                                        bias.size()));
  auto k = select_kernel(spec, options.force_backend, options.max_isa);
  std::vector<float> weights = k->plan ? k->plan->pack_weights(weight.data())
                                       : std::vector<float>(weight.begin(), weight.end());
  return conv1d(spec, std::move(weights), {bias.begin(), bias.end()}, std::move(k), options.threads);
}

conv1d::conv1d(const conv1d_spec& spec, std::vector<float> weight, std::vector<float> bias,
               std::shared_ptr<const kernel> k, int threads)
    : spec_(spec), weight_(std::move(weight)), bias_(std::move(bias)), kernel_(std::move(k)), threads_(threads) {}

backend conv1d::selected_backend() const { return kernel_->from; }

const std::string& conv1d::kernel_name() const { return kernel_->name; }

std::vector<std::int64_t> conv1d::output_dims(std::span<const std::int64_t> input_dims) const {
  return convjit::output_dims(spec_, input_dims);
}

std::int64_t conv1d::output_count(std::span<const std::int64_t> input_dims) const {
  return output_shape(spec_, check_input(spec_, input_dims)).count();
}

void conv1d::forward(std::span<const float> src, std::span<const std::int64_t> input_dims,
                     std::span<float> dst) const {
  const ncl_shape in = check_input(spec_, input_dims);
  const ncl_shape out = output_shape(spec_, in);
  if (std::int64_t(src.size()) != in.count())
    throw error(errc::buffer_size_mismatch, fmt::format("input {} holds {} floats, but the buffer has {}",
                                                        format_dims(input_dims), in.count(), src.size()));
  if (std::int64_t(dst.size()) != out.count())
    throw error(errc::buffer_size_mismatch, fmt::format("output {} holds {} floats, but the buffer has {}",
                                                        format_dims(out.dims()), out.count(), dst.size()));
  const float* bias = spec_.bias ? bias_.data() : nullptr;
  if (kernel_->plan) run_conv1d(*kernel_, weight_.data(), bias, in, src.data(), dst.data(), threads_);
  else reference_conv1d(spec_, in, src.data(), weight_.data(), bias, dst.data());
}

}  // namespace convjit
