// SPDX-License-Identifier: MIT
// Which backend runs a layer: the ordered list aot -> xbyak -> llvm -> reference.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "runtime/kernel.h"

namespace convjit {

/** The kernel for `spec`, for the best ISA within max_isa() and `cap`: the first backend of aot, xbyak, llvm, reference
 * that accepts it, each one that declines saying why. `forced` (or
 * CONVJIT_BACKEND) tries that backend alone and throws backend_unavailable with
 * its reason if it declines. Kernels come from kernel_cache::global(). With
 * CONVJIT_VERBOSE=1 the choice, the reasons and the build time go to stderr. */
std::shared_ptr<const kernel> select_kernel(const conv1d_spec& spec, std::optional<backend> forced,
                                            std::optional<isa> cap = std::nullopt);

}  // namespace convjit
