// SPDX-License-Identifier: MIT
// xbyak_kernel: x86 machine code for one block of a kernel_plan.
#pragma once

#include <xbyak/xbyak.h>

#include "generator/kernel_abi.h"
#include "generator/plan.h"

namespace convjit {

/** Emits, in its constructor, every kernel variant of `plan` (plan.variants())
 * into one code buffer: each fully unrolled over the taps and its register
 * tile, a loop over the input channels, every offset an immediate, bias fused
 * into the accumulator initialisation. The code is made read/execute-only
 * before the constructor returns (W^X). Walks the plan and decides nothing.
 * Throws Xbyak::Error if the assembler fails. */
class xbyak_kernel : public Xbyak::CodeGenerator {
 public:
  explicit xbyak_kernel(const kernel_plan& plan);

  /** Entry point of variant i, and where its code starts in getCode(). */
  conv1d_kernel_fn function(std::size_t i) const {
    return reinterpret_cast<conv1d_kernel_fn>(const_cast<std::uint8_t*>(getCode()) + entries_[i]);
  }
  std::size_t entry_offset(std::size_t i) const { return entries_[i]; }

 private:
  template <class Vmm>
  void generate(const kernel_plan& plan, const kernel_plan::variant& v);
  /** A dot tile's accumulators summed across lanes: accumulator i's sum to
   * lane 0 of register result[i]. */
  template <class Vmm>
  void sum_lanes(const kernel_plan& plan, const kernel_plan::variant& v, std::vector<int>& result);

  static std::size_t code_capacity(const kernel_plan& plan);

  std::vector<std::size_t> entries_;
};

}  // namespace convjit
