// SPDX-License-Identifier: MIT
// convjit's C++ API: one nn.Conv1d layer with its weights, ready to run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generator/error.h"
#include "generator/isa.h"
#include "generator/spec.h"

namespace convjit {

/** The implementations a layer can run on; names are the CLI's --backend. */
enum class backend { reference, xbyak, llvm, aot };

std::string_view backend_name(backend b);
/** "reference", "xbyak", "llvm" or "aot"; throws unknown_backend otherwise. */
backend parse_backend(std::string_view name);

/** The backends this build has and this host can run, best first. */
std::vector<backend> available_backends();

struct conv1d_options {
  std::optional<backend> force_backend;  // empty: the best available (or CONVJIT_BACKEND)
  int threads = 0;                        // 0: all hardware threads (OMP_NUM_THREADS)
  std::optional<isa> max_isa;             // a cap below CONVJIT_MAX_ISA, e.g. avx2 on an AVX-512 host
};

struct kernel;

/** A Conv1d layer: spec, weight (C_out, C_in/groups, K) and bias (C_out).
 * Creating it runs every check that does not depend on the input; forward()
 * runs the rest. Bad input throws convjit::error, never crashes.
 *
 * **Example**:
 *   auto layer = convjit::conv1d::create(
 *       convjit::parse_spec("Conv1d(40, 10, 3, stride=2, padding=3)"), weight, bias);
 *   std::vector<std::int64_t> in = {40, 40, 100};
 *   std::vector<float> y(layer.output_count(in));  // (40, 10, 52)
 *   layer.forward(x, in, y);
 */
class conv1d {
 public:
  static conv1d create(const conv1d_spec& spec, std::span<const float> weight, std::span<const float> bias = {},
                       const conv1d_options& options = {});

  const conv1d_spec& spec() const { return spec_; }
  backend selected_backend() const;
  /** The kernel's name, e.g. convjit_f32_ic40oc10k3s2p3d1g1_avx512_oc5x2, or "reference". */
  const std::string& kernel_name() const;
  /** The kernel behind this layer: its plan and machine code (see kernel.h). */
  const kernel& compiled() const { return *kernel_; }

  /** PyTorch's output dims for an input of `input_dims`, or its error. */
  std::vector<std::int64_t> output_dims(std::span<const std::int64_t> input_dims) const;
  std::int64_t output_count(std::span<const std::int64_t> input_dims) const;

  /** dst = conv1d(src). src holds input_dims' elements and dst the output's;
   * other sizes are buffer_size_mismatch errors. */
  void forward(std::span<const float> src, std::span<const std::int64_t> input_dims, std::span<float> dst) const;

 private:
  conv1d(const conv1d_spec& spec, std::vector<float> weight, std::vector<float> bias,
         std::shared_ptr<const kernel> k, int threads);

  conv1d_spec spec_;
  std::vector<float> weight_;  // (C_out, C_in/groups, K), or packed for the kernel's plan
  std::vector<float> bias_;
  std::shared_ptr<const kernel> kernel_;
  int threads_;
};

}  // namespace convjit
