// SPDX-License-Identifier: MIT
// xbyak_kernel: x86 machine code for one block of a kernel_plan.
#pragma once

#include <xbyak/xbyak.h>

#include "generator/plan.h"

namespace convjit {

/** Emits, in its constructor, every kernel variant of `plan` (plan.variants())
 * into the caller's buffer: each fully unrolled over the taps and its register
 * tile, a loop over the input channels, every offset an immediate, bias fused
 * into the accumulator initialisation. Every jump and constant is
 * rip-relative, so the bytes run wherever they are copied; making them
 * executable is the caller's. Walks the plan and decides nothing. Throws
 * Xbyak::Error if the assembler fails, ERR_CODE_IS_TOO_BIG if the code
 * outgrows the buffer. */
class xbyak_kernel : public Xbyak::CodeGenerator {
 public:
  xbyak_kernel(const kernel_plan& plan, std::uint8_t* buffer, std::size_t capacity);

  /** Where each variant's code starts in getCode(), in plan.variants() order. */
  const std::vector<std::size_t>& entry_offsets() const { return entries_; }

 private:
  template <class Vmm>
  void generate(const kernel_plan& plan, const kernel_plan::variant& v);
  /** A dot tile's accumulators summed across lanes: accumulator i's sum to
   * lane 0 of register result[i]. */
  template <class Vmm>
  void sum_lanes(const kernel_plan& plan, const kernel_plan::variant& v, std::vector<int>& result);

  std::vector<std::size_t> entries_;
};

}  // namespace convjit
