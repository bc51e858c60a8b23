// SPDX-License-Identifier: MIT
// The LLVM backend: a plan in, code from the process-wide ORC LLJIT out.
#pragma once

#include <memory>
#include <string>

#include "runtime/kernel.h"

namespace convjit {

// Defined only in builds with LLVM (CONVJIT_HAVE_LLVM: llvm-19-dev was found).

/** Builds every variant of `plan` as one module in the process-wide LLJIT
 * (host CPU and features; the plan's ISA caps what the code may use), after
 * verifying and optimizing the IR. The kernel's owner removes the code from
 * the JIT when the last user lets go of it (cache eviction). CONVJIT_DUMP
 * writes <name>.ll and <name>.o. Returns null with *why on failure. */
std::shared_ptr<const kernel> build_llvm_kernel(const kernel_plan& plan, std::string* why);

/** The optimized IR of plan's module for this host, as the JIT compiles it. */
std::string llvm_kernel_ir(const kernel_plan& plan, std::string* why);

}  // namespace convjit
