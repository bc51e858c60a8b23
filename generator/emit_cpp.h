// SPDX-License-Identifier: MIT
// The C++ emitter: ahead-of-time kernel source from a kernel_plan.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generator/model.h"
#include "generator/plan.h"

namespace convjit {

/** The version written into every generated file's banner. */
std::string_view generator_version();

/** One translation unit for `plan`: every variant (plan.variants()) as a C++
 * function, fully unrolled over the taps and the register tile, every spec
 * value a constant, in the plan ISA's intrinsics (portable C++17 for a scalar
 * plan), and the aot_kernel_info that names them for `specs` (to_string() of
 * every spec whose plan this is; plan.spec's when empty). `model_id` is a C++
 * identifier namespacing the model's kernels; `layers` are named in the
 * banner. Text from templates/, assembled with fmt; walks the plan and
 * decides nothing. */
std::string emit_cpp_kernel(const kernel_plan& plan, std::string_view model_id, std::span<const std::string> specs,
                            std::span<const std::string> layers);

/** The compiler flags a kernel file of `target` needs, e.g. "-mavx2 -mfma". */
std::string_view cpp_compile_flags(isa target);

struct generated_file {
  std::string name;  // relative to the output directory
  std::string text;
};

/** Everything `convjit gen` writes for a model: one kernel file per distinct
 * spec and ISA (named after the kernel), one unit per ISA including them all
 * (kernels_avx512.cc, kernels_avx2.cc, kernels_scalar.cc: the fixed names a
 * build system compiles, each with cpp_compile_flags()), and registry.cc,
 * compiled without ISA flags, which registers them with the runtime. A spec
 * with no plan for an ISA gets no kernel there and a line in *notes. */
std::vector<generated_file> emit_cpp_model(std::span<const model_layer> layers, std::string_view model_file,
                                           std::string_view model_id, std::span<const isa> targets,
                                           std::vector<std::string>* notes);

/** A C++ identifier from a file name: "whisper-base.txt" -> "whisper_base". */
std::string model_identifier(std::string_view model_file);

}  // namespace convjit
