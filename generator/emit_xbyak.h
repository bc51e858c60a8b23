// SPDX-License-Identifier: MIT
// xbyak_kernel: x86 machine code for one block of a kernel_plan.
#pragma once

#include <xbyak/xbyak.h>

#include <cstdint>

#include "generator/plan.h"

namespace convjit {

/** Xbyak's assembler, with the forms that are nine in ten of a kernel's
 * instructions encoded here: vfmadd231ps, vaddps, vxorps, valignd, vmovups,
 * vmovaps and vbroadcastss on zmm registers, unmasked, their memory operand
 * [base + index * scale + disp] (vfmadd231ps's also {1to16}). Xbyak's general
 * encoder (its operand checks, a call per byte) took half of a kernel's
 * generation. These hide CodeGenerator's functions of the same names, write
 * exactly its bytes (emit_xbyak_test), and leave every other form to it. */
class evex_assembler : public Xbyak::CodeGenerator {
 public:
  using CodeGenerator::CodeGenerator;

  void vfmadd231ps(const Xbyak::Xmm& x1, const Xbyak::Xmm& x2, const Xbyak::Operand& op);
  void vaddps(const Xbyak::Xmm& x, const Xbyak::Operand& op1, const Xbyak::Operand& op2 = Xbyak::Operand());
  void vxorps(const Xbyak::Xmm& x, const Xbyak::Operand& op1, const Xbyak::Operand& op2 = Xbyak::Operand());
  void valignd(const Xbyak::Xmm& x1, const Xbyak::Xmm& x2, const Xbyak::Operand& op, std::uint8_t imm);
  void vmovups(const Xbyak::Xmm& x, const Xbyak::Operand& op);
  void vmovups(const Xbyak::Address& addr, const Xbyak::Xmm& x);
  void vmovaps(const Xbyak::Xmm& x, const Xbyak::Operand& op);
  void vmovaps(const Xbyak::Address& addr, const Xbyak::Xmm& x);
  void vbroadcastss(const Xbyak::Xmm& x, const Xbyak::Operand& op);

 private:
  struct evex_opcode;
  /** Writes `op` reg, vvvv, rm[, imm8] if it is one of the forms above; false if not (nothing written). */
  bool encode(const evex_opcode& op, const Xbyak::Operand& reg, const Xbyak::Operand* vvvv, const Xbyak::Operand& rm,
              int imm8 = -1);
};

/** Emits, in its constructor, every kernel variant of `plan` (plan.variants())
 * into the caller's buffer: each fully unrolled over the taps and its register
 * tile, a loop over the input channels, every offset an immediate, bias fused
 * into the accumulator initialisation. Every jump and constant is
 * rip-relative, so the bytes run wherever they are copied; making them
 * executable is the caller's. Walks the plan and decides nothing. Throws
 * Xbyak::Error if the assembler fails, ERR_CODE_IS_TOO_BIG if the code
 * outgrows the buffer. */
class xbyak_kernel : public evex_assembler {
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
