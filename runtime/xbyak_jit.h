// SPDX-License-Identifier: MIT
// The Xbyak JIT backend: a plan in, executable code out.
#pragma once

#include <memory>

#include "runtime/kernel.h"

namespace convjit {

/** Generates the block and tail kernels of `plan`, read/execute only, dumps
 * them under CONVJIT_DUMP, and times the whole build. */
std::shared_ptr<const kernel> build_xbyak_kernel(const kernel_plan& plan);

}  // namespace convjit
