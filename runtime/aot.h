// SPDX-License-Identifier: MIT
// The registry of ahead-of-time kernels: what `convjit gen` compiled into the
// program registers itself here, and dispatch looks here first.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "generator/isa.h"
#include "generator/kernel_abi.h"

namespace convjit {

/** One generated kernel: the code of every variant of the plan that
 * make_plan(spec, target) returns for each of its specs (specs that differ
 * only in padding share a plan), in kernel_plan::variants() order. Constant
 * data, so a file built for an ISA the CPU lacks runs nothing when loaded. */
struct aot_kernel_info {
  const char* const* specs;       // to_string() of each layer spec; null-terminated
  const char* plan_name;          // kernel_plan::name(): the plan the code walks
  isa target;
  const char* generator_version;  // the convjit that generated the code
  const conv1d_kernel_fn* entries;
  int entry_count;
};

/** Adds a null-terminated list (the generated registry file calls this from a
 * static initializer). A spec and ISA registered twice keeps the first.
 * Returns true so that it can initialize a variable. */
bool register_aot_kernels(const aot_kernel_info* const* kernels);

/** How many kernels are registered. */
std::size_t aot_kernel_count();

struct conv1d_spec;
struct kernel;

/** The registered kernel for `spec` at the widest ISA within `target` that
 * has one, checked against the plan this convjit makes for it; else null and
 * *why says what is missing or stale. */
std::shared_ptr<const kernel> find_aot_kernel(const conv1d_spec& spec, isa target, std::string* why);

}  // namespace convjit
