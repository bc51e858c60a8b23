// SPDX-License-Identifier: MIT
// xbyak_kernel: x86 machine code for one block of a kernel_plan.
#pragma once

#include <xbyak/xbyak.h>

#include "generator/kernel_abi.h"
#include "generator/plan.h"

namespace convjit {

/** Emits, in its constructor, the kernel of `plan` for a block of `rows`
 * output channels (plan.oc_block, or plan.oc_tail): fully unrolled over the
 * taps and the register tile, a loop over the input channels, every offset an
 * immediate, bias fused into the accumulator initialisation. The code is made
 * read/execute-only before the constructor returns (W^X). Walks the plan and
 * decides nothing. Throws Xbyak::Error if the assembler fails. */
class xbyak_kernel : public Xbyak::CodeGenerator {
 public:
  xbyak_kernel(const kernel_plan& plan, int rows);

  conv1d_kernel_fn function() const { return getCode<conv1d_kernel_fn>(); }

 private:
  template <class Vmm>
  void generate(const kernel_plan& plan, int rows);

  static std::size_t code_capacity(const kernel_plan& plan, int rows);
};

}  // namespace convjit
