// SPDX-License-Identifier: MIT
// The Xbyak emitter.
//
// For Conv1d(512, 512, 3, stride=2) on AVX-512 (tile 8 oc x 3 vectors), one
// input-channel step of the loop is, per tap k (phase register ph, offset q):
//   vmovups zmm24..26, [src + ph + 4*q + {0,64,128}]      ; three src vectors
//   vbroadcastss zmm27, [wei + 4*(8*k + o)]               ; per output channel o
//   vfmadd231ps zmm(3*o + j), zmm(24 + j), zmm27          ; 24 FMAs
// then src += src_stride, wei += 4*8*3, and the loop counts C_in down.
#include "generator/emit_xbyak.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include "generator/kernel_abi.h"

namespace convjit {
namespace {

using namespace Xbyak;
using namespace Xbyak::util;

// General-purpose register roles (System V: the argument pointer arrives in rdi).
const Reg64 reg_args = rdi;
const Reg64 reg_src = rsi;
const Reg64 reg_wei = rdx;
const Reg64 reg_dst = rcx;
const Reg64 reg_src_stride = r8;  // bytes
const Reg64 reg_dst_stride = r9;  // bytes
const Reg64 reg_count = rax;
const Reg64 reg_bias = r10;
// Byte offsets of phases 1.. of a strided input; the callee-saved ones are
// pushed only when used. plan.cc's kPhaseRegisters is this list's length.
const Reg64 reg_phases[] = {r11, rbx, rbp, r12, r13, r14, r15};
const Reg64 callee_saved[] = {rbx, rbp, r12, r13, r14, r15};

template <class Vmm>
Vmm vmm(int index) {
  return Vmm(index);
}

}  // namespace

// An EVEX opcode: its map (0F, 0F38, 0F3A: 1 to 3), implied prefix (none,
// 66: 0, 1), byte, and the unit of a compressed 8-bit displacement (a whole
// zmm, or the float a broadcast or vbroadcastss reads). W0 throughout.
struct evex_assembler::evex_opcode {
  std::uint8_t map, prefix, code;
  int disp8_unit = 64;
  bool broadcasts = false;  // takes {1to16}
};

namespace {
constexpr int kFloat = int(sizeof(float));
// A register operand of ours: a zmm, unmasked, not zeroing, no rounding.
bool plain_zmm(const Operand& op) {
  return op.isZMM() && op.getOpmaskIdx() == 0 && !op.hasZero() && op.getRounding() == 0;
}
}  // namespace

bool evex_assembler::encode(const evex_opcode& op, const Operand& reg, const Operand* vvvv, const Operand& rm, int imm8) {
  if (!plain_zmm(reg) || (vvvv && !plain_zmm(*vvvv)) || size_ + 16 > maxSize_) return false;
  const int r = reg.getIdx(), v = vvvv ? vvvv->getIdx() : 0;
  int x = 0, b = 0;  // rm's register bits 4 and 3 (memory: the index's bit 3 and the base's)
  bool broadcast = false;
  std::uint8_t* const prefix = top_ + size_;  // 0x62, three payload bytes and the opcode, written last
  std::uint8_t* out = prefix + 5;
  if (rm.isMEM()) {
    const Address& address = rm.getAddress();
    const RegExp& e = address.getRegExp();
    const Reg& base = e.getBase();
    const Reg& index = e.getIndex();
    const auto disp = static_cast<std::int64_t>(e.getDisp());
    broadcast = address.isBroadcast();
    if (address.getMode() != Address::M_ModRM || address.getOpmaskIdx() != 0 || e.isVsib() || base.getBit() != 64 ||
        (index.getBit() != 0 && index.getBit() != 64) || (broadcast && !op.broadcasts) || disp != std::int32_t(disp))
      return false;
    const int unit = broadcast ? kFloat : op.disp8_unit;
    const int base_low = base.getIdx() & 7;
    int mod = 2;  // disp32
    if (disp == 0 && base_low != 5) mod = 0;  // [rbp] and [r13] need a displacement
    else if (disp % unit == 0 && disp / unit >= -128 && disp / unit <= 127) mod = 1;
    const bool sib = index.getBit() != 0 || base_low == 4;
    *out++ = std::uint8_t(mod << 6 | (r & 7) << 3 | (sib ? 4 : base_low));
    if (sib) {
      const int scale = e.getScale(), scale_bits = scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
      *out++ = std::uint8_t(scale_bits << 6 | (index.getBit() ? index.getIdx() & 7 : 4) << 3 | base_low);
    }
    if (mod == 1) *out++ = std::uint8_t(disp / unit);
    for (int i = 0; mod == 2 && i < 4; ++i) *out++ = std::uint8_t(std::uint32_t(disp) >> (8 * i));
    x = index.getBit() ? index.getIdx() >> 3 & 1 : 0;
    b = base.getIdx() >> 3 & 1;
  } else if (plain_zmm(rm)) {
    *out++ = std::uint8_t(0xC0 | (r & 7) << 3 | (rm.getIdx() & 7));
    x = rm.getIdx() >> 4 & 1;
    b = rm.getIdx() >> 3 & 1;
  } else {
    return false;
  }
  if (imm8 >= 0) *out++ = std::uint8_t(imm8);
  prefix[0] = 0x62;
  prefix[1] = std::uint8_t((~r >> 3 & 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | (~r >> 4 & 1) << 4 | op.map);
  prefix[2] = std::uint8_t((~v & 15) << 3 | 4 | op.prefix);
  prefix[3] = std::uint8_t(2 << 5 | int(broadcast) << 4 | (~v >> 4 & 1) << 3);  // 512 bits, no mask
  prefix[4] = op.code;
  size_ = std::size_t(out - top_);
  return true;
}

namespace {
constexpr std::uint8_t kMap0F = 1, kMap0F38 = 2, kMap0F3A = 3, kPrefix66 = 1;
}  // namespace

void evex_assembler::vfmadd231ps(const Xmm& x1, const Xmm& x2, const Operand& op) {
  if (!encode({kMap0F38, kPrefix66, 0xB8, 64, true}, x1, &x2, op)) CodeGenerator::vfmadd231ps(x1, x2, op);
}
void evex_assembler::vaddps(const Xmm& x, const Operand& op1, const Operand& op2) {
  if (op2.isNone() || !encode({kMap0F, 0, 0x58, 64, true}, x, &op1, op2)) CodeGenerator::vaddps(x, op1, op2);
}
void evex_assembler::vxorps(const Xmm& x, const Operand& op1, const Operand& op2) {
  if (op2.isNone() || !encode({kMap0F, 0, 0x57, 64, true}, x, &op1, op2)) CodeGenerator::vxorps(x, op1, op2);
}
void evex_assembler::valignd(const Xmm& x1, const Xmm& x2, const Operand& op, std::uint8_t imm) {
  if (!encode({kMap0F3A, kPrefix66, 0x03}, x1, &x2, op, imm)) CodeGenerator::valignd(x1, x2, op, imm);
}
void evex_assembler::vmovups(const Xmm& x, const Operand& op) {
  if (!encode({kMap0F, 0, 0x10}, x, nullptr, op)) CodeGenerator::vmovups(x, op);
}
void evex_assembler::vmovups(const Address& addr, const Xmm& x) {
  if (!encode({kMap0F, 0, 0x11}, x, nullptr, addr)) CodeGenerator::vmovups(addr, x);
}
void evex_assembler::vmovaps(const Xmm& x, const Operand& op) {
  if (!encode({kMap0F, 0, 0x28}, x, nullptr, op)) CodeGenerator::vmovaps(x, op);
}
void evex_assembler::vmovaps(const Address& addr, const Xmm& x) {
  if (!encode({kMap0F, 0, 0x29}, x, nullptr, addr)) CodeGenerator::vmovaps(addr, x);
}
void evex_assembler::vbroadcastss(const Xmm& x, const Operand& op) {
  if (!op.isMEM() || !encode({kMap0F38, kPrefix66, 0x18, kFloat}, x, nullptr, op)) CodeGenerator::vbroadcastss(x, op);
}

xbyak_kernel::xbyak_kernel(const kernel_plan& plan, std::uint8_t* buffer, std::size_t capacity)
    : evex_assembler(capacity, buffer) {
  for (const auto& v : plan.variants()) {
    align(16);
    entries_.push_back(getSize());
    if (plan.target == isa::avx512) generate<Zmm>(plan, v);
    else generate<Ymm>(plan, v);
  }
}

template <class Vmm>
void xbyak_kernel::generate(const kernel_plan& p, const kernel_plan::variant& v) {
  const int rows = v.rows, ur = v.ur;
  const int vector_bytes = p.vlen * int(sizeof(float));
  // input: args in reg_args / output: dst tile / destroys: the roles above.
  std::vector<Reg64> pushed;
  // A dot tile's column j is at column_base(j / 3) + (j % 3) * src_stride:
  // the bases after src take the phase registers, which it never reads.
  const int column_bases = v.dot ? (ur - 1) / 3 : 0;
  // An edge variant (stride 1: no phases) takes the first for its lane
  // masks and, with circular padding, the second for src + src_wrap.
  const bool wraps = v.edge != row_edge::none && p.spec.mode == padding_mode::circular;
  const int edge_registers = v.edge == row_edge::none ? 0 : wraps ? 2 : 1;
  const int phase_registers = std::max(v.reads_phases() ? p.nonzero_phases() : column_bases, edge_registers);
  for (int i = 0; i < phase_registers; ++i)
    for (const Reg64& r : callee_saved)
      if (r == reg_phases[i]) pushed.push_back(r);
  for (const Reg64& r : pushed) push(r);

  mov(reg_src, ptr[reg_args + offsetof(conv1d_args, src)]);
  mov(reg_wei, ptr[reg_args + offsetof(conv1d_args, wei)]);
  mov(reg_bias, ptr[reg_args + offsetof(conv1d_args, bias)]);
  mov(reg_dst, ptr[reg_args + offsetof(conv1d_args, dst)]);
  mov(reg_src_stride, ptr[reg_args + offsetof(conv1d_args, src_stride)]);
  shl(reg_src_stride, 2);
  mov(reg_dst_stride, ptr[reg_args + offsetof(conv1d_args, dst_stride)]);
  shl(reg_dst_stride, 2);
  // Phase r of the input starts r * phase_stride floats after phase 0.
  auto phase_register = [&](int phase) -> const Reg64* {
    int i = 0;
    for (int used : p.phases_used) {
      if (used == 0) continue;
      if (used == phase) return &reg_phases[i];
      ++i;
    }
    return nullptr;  // phase 0: no offset
  };
  for (int used : p.phases_used) {
    if (used == 0 || !v.reads_phases()) continue;
    const Reg64& r = *phase_register(used);
    mov(r, ptr[reg_args + offsetof(conv1d_args, phase_stride)]);
    imul(r, r, used * int(sizeof(float)));
  }
  const Reg32 reg_lane_mask = reg_phases[0].cvt32();
  const Reg64& reg_wrapped = reg_phases[1];
  if (wraps) {
    mov(reg_wrapped, ptr[reg_args + offsetof(conv1d_args, src_wrap)]);
    lea(reg_wrapped, ptr[reg_src + reg_wrapped * int(sizeof(float))]);
  }
  auto column_base = [&](int b) { return b == 0 ? reg_src : reg_phases[b - 1]; };
  for (int b = 1; b <= column_bases; ++b) {
    lea(column_base(b), ptr[column_base(b - 1) + reg_src_stride * 2]);
    add(column_base(b), reg_src_stride);
  }
  // One input channel's ops (the plan's channel step), once for the whole variant.
  const std::vector<kernel_plan::step_op> step = p.channel_step(v);
  // A column's partial last vector, or with rows in lanes the partial last
  // row vector: the lanes it holds, as a mask (AVX-512: k1).
  int partial_lanes = v.row_vectors > 0 ? v.rows % p.vlen : 0;
  for (const auto& op : step)
    if (op.lanes > 0) partial_lanes = op.lanes;
  Label lane_mask;  // AVX2: vmaskmovps's mask vector, after the code
  // AVX2: an edge vector's vmaskmovps masks, after the code: a vector each
  // of -1, 0, -1, so the first n lanes' mask is n floats before the zeros,
  // lanes l on's l floats before the second -1s.
  Label edge_masks;
  bool uses_edge_masks = false;
  if (partial_lanes > 0 && p.target == isa::avx512) {
    mov(eax, (1u << partial_lanes) - 1);
    kmovw(k1, eax);
  }

  // Accumulators start at the bias (or zero); the other partial sums, and a
  // dot tile's accumulators whose lanes it sums (the bias joins after), at zero.
  auto acc = [&](int o, int j, int sum) { return vmm<Vmm>(v.acc_register(o, kernel_plan::acc_column(v, j, sum))); };
  const int acc_rows = v.accumulator_rows();
  const bool sums_lanes = v.dot && v.row_vectors == 0;
  for (int o = 0; o < acc_rows; ++o)
    for (int sum = sums_lanes ? 0 : 1; sum < v.sums; ++sum)
      for (int j = 0; j < ur; ++j) vxorps(acc(o, j, sum), acc(o, j, sum), acc(o, j, sum));
  Label accumulators_ready;
  // The mask of the last vector's lanes (conv1d_args::last_lanes). AVX-512:
  // in k3, all of them when last_lanes is 0, so its loads and stores are
  // masked always (a branch and its labels cost codegen 10%). AVX2, whose
  // masked stores are slow: jumps to `whole` when last_lanes is 0, else puts
  // the first lanes' mask in the weight register (free outside the step),
  // from edge_masks' -1s then 0s. Destroys reg_count and reg_wei.
  const bool masks = p.masks_last_vector(v);
  const bool always_masked = masks && p.target == isa::avx512;
  const Vmm last_mask = vmm<Vmm>(v.weight);
  auto last_vector_mask = [&] {
    mov(reg_count, ptr[reg_args + offsetof(conv1d_args, last_lanes)]);
    mov(reg_wei.cvt32(), p.vlen);
    test(reg_count, reg_count);
    cmovz(reg_count.cvt32(), reg_wei.cvt32());
    mov(reg_wei.cvt32(), -1);
    bzhi(reg_wei.cvt32(), reg_wei.cvt32(), reg_count.cvt32());
    kmovw(k3, reg_wei.cvt32());
  };
  auto last_vector_mask_or = [&](Label& whole) {
    mov(reg_count, ptr[reg_args + offsetof(conv1d_args, last_lanes)]);
    test(reg_count, reg_count);
    jz(whole, T_NEAR);
    lea(reg_wei, ptr[rip + edge_masks + p.vlen * int(sizeof(float))]);
    neg(reg_count);
    vmovups(last_mask, ptr[reg_wei + reg_count * int(sizeof(float))]);
    uses_edge_masks = true;
  };
  auto output_so_far = [&](bool masked) {
    mov(reg_count, reg_dst);
    for (int o = 0; o < acc_rows; ++o) {
      for (int j = 0; j < ur; ++j) {
        const Address at = ptr[reg_count + j * vector_bytes];
        if (!masked || j + 1 < ur) vmovups(acc(o, j, 0), at);
        else if (p.target == isa::avx512) vmovups(acc(o, j, 0) | k3 | T_z, at);
        else vmaskmovps(acc(o, j, 0), last_mask, at);
      }
      if (o + 1 < acc_rows) add(reg_count, reg_dst_stride);
    }
  };
  if (v.columns) {  // always adds to its output
    output_so_far(false);
  } else {
    if (p.adds_at_run_time(v)) {  // a later input-channel block: the output so far
      Label fresh;
      cmp(qword[reg_args + offsetof(conv1d_args, accumulate)], 0);
      je(fresh, T_NEAR);
      if (always_masked) {
        last_vector_mask();
        mov(reg_wei, ptr[reg_args + offsetof(conv1d_args, wei)]);
      } else if (masks) {
        Label whole;
        last_vector_mask_or(whole);
        mov(reg_wei, ptr[reg_args + offsetof(conv1d_args, wei)]);
        output_so_far(true);
        jmp(accumulators_ready, T_NEAR);
        L(whole);
      }
      output_so_far(always_masked);
      jmp(accumulators_ready, T_NEAR);
      L(fresh);
    }
    if (p.spec.bias && !sums_lanes) {  // a dot tile summing lanes adds the bias after
      Label no_bias;
      test(reg_bias, reg_bias);
      jz(no_bias, T_NEAR);
      for (int o = 0; o < acc_rows; ++o) {
        const Address row_bias = ptr[reg_bias + o * (v.row_vectors > 0 ? vector_bytes : int(sizeof(float)))];
        if (v.row_vectors > 0 && o + 1 == acc_rows && partial_lanes > 0) {  // the rows' last vector, partial
          if constexpr (std::is_same_v<Vmm, Zmm>) {
            vmovups(acc(o, 0, 0) | k1 | T_z, row_bias);
          } else {
            vmovups(vmm<Vmm>(v.weight), ptr[rip + lane_mask]);
            vmaskmovps(acc(o, 0, 0), vmm<Vmm>(v.weight), row_bias);
          }
        } else if (v.lanes || v.row_vectors > 0) {  // a channel per lane
          vmovups(acc(o, 0, 0), row_bias);
        } else {
          vbroadcastss(acc(o, 0, 0), row_bias);
        }
        for (int j = 1; j < ur; ++j) vmovaps(acc(o, j, 0), acc(o, 0, 0));
      }
      jmp(accumulators_ready, T_NEAR);
      L(no_bias);
    }
    if (!sums_lanes)
      for (int o = 0; o < acc_rows; ++o)
        for (int j = 0; j < ur; ++j) vxorps(acc(o, j, 0), acc(o, j, 0), acc(o, j, 0));
  }
  L(accumulators_ready);
  // Trailing columns always add to theirs.
  auto trailing_columns = [&] {
    mov(reg_count, ptr[reg_args + offsetof(conv1d_args, columns)]);
    return [&](int j) { return ptr[reg_count + j * vector_bytes]; };
  };
  if (v.trailing > 0) {
    const auto column = trailing_columns();
    for (int j = 0; j < v.trailing; ++j) vmovups(vmm<Vmm>(v.first_trailing + j), column(j));
  }

  // One input channel: the plan's channel step, every tap, row and vector.
  const int step_bytes = int(p.step_weight_floats(v) * std::int64_t{sizeof(float)});
  auto next_channel = [&] {
    if (v.dot) {
      for (int b = 0; b <= column_bases; ++b) add(column_base(b), int(p.step_src_floats(v) * std::int64_t{sizeof(float)}));
    } else {
      add(reg_src, reg_src_stride);
      if (wraps) add(reg_wrapped, reg_src_stride);
    }
    add(reg_wei, step_bytes);
  };
  // An edge op's vector into `to`, lane by lane as the plan says, in runs
  // of lanes: from consecutive floats, or from one float.
  struct lane_run {
    int first, end;
    bool same_float;
  };
  auto lane_runs = [&](const std::vector<lane_source>& lanes) {
    std::vector<lane_run> runs;
    for (int l = 0; l < p.vlen;) {
      const lane_source& start = lanes[std::size_t(l)];
      if (start.where == lane_source::from::zero) {
        ++l;
        continue;
      }
      const bool same_float = l + 1 < p.vlen && lanes[std::size_t(l + 1)] == start;
      int end = l + 1;
      while (end < p.vlen && lanes[std::size_t(end)].where == start.where &&
             lanes[std::size_t(end)].offset == start.offset + (same_float ? 0 : end - l))
        ++end;
      runs.push_back({l, end, same_float});
      l = end;
    }
    return runs;
  };
  auto lane_bits = [](const lane_run& r) { return ((1u << r.end) - 1) & ~((1u << r.first) - 1); };
  auto edge_vector = [&](const Vmm& to, std::int64_t offset) {
    const std::vector<lane_source> lanes = p.edge_lanes(v, offset);
    const std::vector<lane_run> runs = lane_runs(lanes);
    auto run_base = [&](const lane_run& r) -> const Reg64& {
      return lanes[std::size_t(r.first)].where == lane_source::from::src ? reg_src : reg_wrapped;
    };
    auto run_offset = [&](const lane_run& r) { return int(lanes[std::size_t(r.first)].offset); };
    if constexpr (std::is_same_v<Vmm, Zmm>) {
      // One masked load or broadcast a run, the first zeroing the lanes no run writes.
      for (const lane_run& r : runs) {
        mov(reg_lane_mask, lane_bits(r));
        kmovw(k2, reg_lane_mask);
        const Zmm masked = &r == &runs.front() ? Zmm(to.getIdx()) | k2 | T_z : Zmm(to.getIdx()) | k2;
        if (r.same_float) vbroadcastss(masked, ptr[run_base(r) + run_offset(r) * int(sizeof(float))]);
        else vmovups(masked, ptr[run_base(r) + (run_offset(r) - r.first) * int(sizeof(float))]);
      }
      if (runs.empty()) vxorps(to, to, to);
    } else {
      // AVX2 has no mask registers: a run of consecutive floats that starts
      // or ends the vector is one vmaskmovps (its mask from edge_masks); any
      // other run a broadcast, of its one float or lane by lane. Every run
      // after the first goes through the scratch register and is blended in.
      std::vector<lane_run> pieces;  // runs AVX2 loads whole: masked (consecutive) or broadcast (same_float)
      for (const lane_run& r : runs) {
        if (r.same_float || (r.end - r.first > 1 && (r.first == 0 || r.end == p.vlen))) {
          pieces.push_back(r);
          continue;
        }
        for (int l = r.first; l < r.end; ++l) pieces.push_back({l, l + 1, true});
      }
      const bool zero_lanes =
          std::any_of(lanes.begin(), lanes.end(), [](const lane_source& l) { return l.where == lane_source::from::zero; });
      // Zero lanes stay zero under a masked first run, else under zeros first.
      const bool zeros_first = pieces.empty() || (zero_lanes && pieces.front().same_float);
      if (zeros_first) vxorps(to, to, to);
      const Vmm scratch = vmm<Vmm>(v.edge_scratch);
      for (const lane_run& r : pieces) {
        const bool into_to = &r == &pieces.front() && !zeros_first;
        const Vmm into = into_to ? to : scratch;
        if (!r.same_float) {
          vmovups(into, ptr[rip + edge_masks + (r.first == 0 ? p.vlen - r.end : 2 * p.vlen - r.first) * int(sizeof(float))]);
          vmaskmovps(into, into, ptr[run_base(r) + (run_offset(r) - r.first) * int(sizeof(float))]);
          uses_edge_masks = true;
        } else {
          vbroadcastss(into, ptr[run_base(r) + run_offset(r) * int(sizeof(float))]);
        }
        if (!into_to) vblendps(to, to, scratch, std::uint8_t(lane_bits(r)));
      }
    }
  };
  auto channel_step = [&] {
    using kind = kernel_plan::step_op::kind;
    const Vmm weight = vmm<Vmm>(v.weight);
    auto src_at = [&](const kernel_plan::step_op& op) {
      const Reg64* phase = phase_register(op.phase);
      const int disp = int(op.offset) * int(sizeof(float));
      return phase ? reg_src + *phase + disp : reg_src + disp;
    };
    auto src_vector = [&](const kernel_plan::step_op& op) { return ptr[src_at(op)]; };
    auto column_vector = [&](const kernel_plan::step_op& op) {
      const RegExp base = RegExp(column_base(op.j / 3)) + int(op.offset) * int(sizeof(float));
      return ptr[op.j % 3 == 0 ? base : base + reg_src_stride * (op.j % 3)];
    };
    // AVX-512: `op` on a dot column's partial last vector, in the narrowest
    // vector that holds its lanes (k1), zeroing the rest of `to` as it
    // writes it, which the plan allows (step_op::lanes): Zen 4 runs a zmm op
    // as two 256-bit halves (seed.depthwise_k49, its 49th float in an xmm:
    // 4.62-4.71 -> 4.50-4.54 us a call).
    auto partial_vector = [&](const Vmm& to, auto&& op) {
      if (partial_lanes <= 4) op(Xmm(to.getIdx()));
      else if (partial_lanes <= 8) op(Ymm(to.getIdx()));
      else op(Zmm(to.getIdx()));
    };
    bool mask_in_weight = false;  // AVX2: the weight register holds the lane mask
    int channel = 0;
    for (const auto& op : step) {
      for (; channel < op.channel; ++channel) next_channel();  // the step's next input channel
      switch (op.what) {
        case kind::load_src: {
          const Vmm to = vmm<Vmm>(v.src_register(op.j));
          if (op.edge) {
            edge_vector(to, op.offset);
          } else if (!v.dot) {
            vmovups(to, src_vector(op));
          } else if (op.lanes == 0) {
            vmovups(to, column_vector(op));
          } else if constexpr (std::is_same_v<Vmm, Zmm>) {  // masked lanes neither fault nor count
            partial_vector(to, [&](const auto& part) { vmovups(part | k1 | T_z, column_vector(op)); });
          } else {
            if (!mask_in_weight) vmovups(weight, ptr[rip + lane_mask]);
            mask_in_weight = true;
            vmaskmovps(to, weight, column_vector(op));
          }
          break;
        }
        case kind::load_weight:
          vmovups(vmm<Vmm>(v.weight_of(op.o)), ptr[reg_wei + op.weight * int(sizeof(float))]);
          mask_in_weight = false;
          break;
        case kind::broadcast_column: vbroadcastss(vmm<Vmm>(v.first_src), column_vector(op)); break;
        case kind::fma_column:
          vfmadd231ps(acc(op.o, op.j, 0), vmm<Vmm>(v.weight_of(op.o)), vmm<Vmm>(v.first_src));
          break;
        case kind::broadcast_weight:
          vbroadcastss(weight, ptr[reg_wei + op.weight * int(sizeof(float))]);
          break;
        case kind::fma: vfmadd231ps(acc(op.o, op.j, op.sum), vmm<Vmm>(v.src_register(op.j)), weight); break;
        case kind::fma_broadcast_weight:
          if (p.target == isa::avx512) {
            vfmadd231ps(acc(op.o, op.j, op.sum), vmm<Vmm>(v.src_register(op.j)),
                        ptr_b[reg_wei + op.weight * int(sizeof(float))]);
          } else {  // no broadcast memory operand
            vbroadcastss(weight, ptr[reg_wei + op.weight * int(sizeof(float))]);
            vfmadd231ps(acc(op.o, op.j, op.sum), vmm<Vmm>(v.src_register(op.j)), weight);
          }
          break;
        case kind::fma_from_memory:
          if (op.edge) {  // built in the shifted input's register
            edge_vector(vmm<Vmm>(v.shifted), op.offset);
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, vmm<Vmm>(v.shifted));
          } else if (!v.dot) {
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, src_vector(op));
          } else if (op.lanes == 0) {
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, column_vector(op));
          } else if constexpr (std::is_same_v<Vmm, Zmm>) {  // merge-masked: the lanes past the column neither fault nor count
            partial_vector(acc(op.o, op.j, op.sum), [&](const auto& part) {
              vfmadd231ps(part | k1, std::decay_t<decltype(part)>(weight.getIdx()), column_vector(op));
            });
          } else {  // the mask, then the lanes it keeps, into the free input register
            const Vmm lanes = vmm<Vmm>(v.first_src);
            vmovups(lanes, ptr[rip + lane_mask]);
            vmaskmovps(lanes, lanes, column_vector(op));
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, lanes);
          }
          break;
        case kind::fma_shifted:
          if (op.shift == 0) {
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, vmm<Vmm>(v.src_register(op.src)));
          } else if constexpr (std::is_same_v<Vmm, Zmm>) {
            valignd(vmm<Vmm>(v.shifted), vmm<Vmm>(v.src_register(op.src + 1)), vmm<Vmm>(v.src_register(op.src)),
                    std::uint8_t(op.shift));
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, vmm<Vmm>(v.shifted));
          } else {  // AVX2 plans never slide (no valignd); the same vector, from memory
            vfmadd231ps(acc(op.o, op.j, op.sum), weight, src_vector(op));
          }
          break;
        case kind::fma_broadcast_src:
        case kind::fma_trailing: {
          const Vmm to = op.what == kind::fma_trailing ? vmm<Vmm>(v.first_trailing + op.j) : acc(op.o, op.j, op.sum);
          if (p.target == isa::avx512) {
            vfmadd231ps(to, weight, ptr_b[src_at(op)]);
          } else {  // no broadcast memory operand; src(0) is loaded again by the next tap
            vbroadcastss(vmm<Vmm>(v.first_src), src_vector(op));
            vfmadd231ps(to, weight, vmm<Vmm>(v.first_src));
          }
          break;
        }
      }
    }
  };
  const std::int64_t channels = p.channel_steps(v);
  if (channels == 0) {
    // No input channels (in_channels=0): the output is the bias.
  } else if (channels == 1) {
    channel_step();
  } else {
    Label channel_loop;
    mov(reg_count, channels);
    L(channel_loop);
    channel_step();
    next_channel();
    dec(reg_count);
    jnz(channel_loop, T_NEAR);
  }

  for (int o = 0; o < acc_rows; ++o)
    for (int sum = 1; sum < v.sums; ++sum)
      for (int j = 0; j < ur; ++j) vaddps(acc(o, j, 0), acc(o, j, 0), acc(o, j, sum));
  // A dot tile's column j at j * dst_column_stride: the input's stride register is free now.
  const Reg64& reg_column_stride = reg_src_stride;
  if (v.dot && ur > 1) {
    mov(reg_column_stride, ptr[reg_args + offsetof(conv1d_args, dst_column_stride)]);
    shl(reg_column_stride, 2);
  }
  if (v.row_vectors > 0) {
    // Column j's rows, contiguous, the partial last vector masked.
    if (partial_lanes > 0 && p.target != isa::avx512) vmovups(vmm<Vmm>(v.weight), ptr[rip + lane_mask]);
    for (int j = 0; j < ur; ++j) {
      for (int o = 0; o < acc_rows; ++o) {
        const Address at = ptr[reg_dst + o * vector_bytes];
        if (o + 1 < acc_rows || partial_lanes == 0) vmovups(at, acc(o, j, 0));
        else if (p.target == isa::avx512) vmovups(at | k1, acc(o, j, 0));
        else vmaskmovps(at, vmm<Vmm>(v.weight), acc(o, j, 0));
      }
      if (j + 1 < ur) add(reg_dst, reg_column_stride);
    }
  } else if (v.dot) {
    // Sum each accumulator's lanes, halving (lane i += lane i + n/2, as every
    // backend sums them), several accumulators a vector at a time: each level
    // packs two vectors' halves into one and adds, so 8 accumulators take 30
    // instructions, not 64. sum_lanes() leaves accumulator o * ur + j's sum
    // in lane 0 of register result[o * ur + j].
    std::vector<int> result(std::size_t(rows * ur));
    sum_lanes<Vmm>(p, v, result);
    auto sum_of = [&](int o, int j) { return Xmm(result[std::size_t(o * ur + j)]); };
    if (p.spec.bias) {
      Label no_dot_bias;
      test(reg_bias, reg_bias);
      jz(no_dot_bias, T_NEAR);
      for (int o = 0; o < rows; ++o)
        for (int j = 0; j < ur; ++j) vaddss(sum_of(o, j), sum_of(o, j), ptr[reg_bias + o * int(sizeof(float))]);
      L(no_dot_bias);
    }
    for (int o = 0; o < rows; ++o) {
      mov(reg_count, reg_dst);
      for (int j = 0; j < ur; ++j) {
        vmovss(ptr[reg_count], sum_of(o, j));
        if (j + 1 < ur) add(reg_count, reg_column_stride);
      }
      if (o + 1 < rows) add(reg_dst, reg_dst_stride);
    }
  } else {
    enum class store_kind { plain, stream, masked };  // masked: the last vector's first lanes
    auto store_rows = [&](store_kind how) {
      for (int o = 0; o < acc_rows; ++o) {
        for (int j = 0; j < ur; ++j) {
          const Address at = ptr[reg_dst + j * vector_bytes];
          if (how == store_kind::stream) vmovntps(at, acc(o, j, 0));
          else if (how == store_kind::plain || j + 1 < ur) vmovups(at, acc(o, j, 0));
          else if (p.target == isa::avx512) vmovups(at | k3, acc(o, j, 0));
          else vmaskmovps(at, last_mask, acc(o, j, 0));
        }
        if (o + 1 < acc_rows) add(reg_dst, reg_dst_stride);
      }
    };
    Label stored;
    if (p.streams(v)) {
      Label cached;
      cmp(qword[reg_args + offsetof(conv1d_args, stream)], 0);
      je(cached, T_NEAR);
      store_rows(store_kind::stream);
      jmp(stored, T_NEAR);
      L(cached);
    }
    if (always_masked) {
      last_vector_mask();
    } else if (masks) {
      Label whole;
      last_vector_mask_or(whole);
      store_rows(store_kind::masked);
      jmp(stored, T_NEAR);
      L(whole);
    }
    store_rows(always_masked ? store_kind::masked : store_kind::plain);
    L(stored);
    if (v.trailing > 0) {
      const auto column = trailing_columns();
      for (int j = 0; j < v.trailing; ++j) vmovups(column(j), vmm<Vmm>(v.first_trailing + j));
    }
  }
  for (auto it = pushed.rbegin(); it != pushed.rend(); ++it) pop(*it);
  vzeroupper();
  ret();
  if (partial_lanes > 0 && p.target != isa::avx512) {
    L(lane_mask);
    for (int lane = 0; lane < p.vlen; ++lane) dd(lane < partial_lanes ? 0xffffffffu : 0u);
  }
  if (uses_edge_masks) {
    L(edge_masks);
    for (int lane = 0; lane < 3 * p.vlen; ++lane) dd(lane / p.vlen == 1 ? 0u : 0xffffffffu);
  }
}

template <class Vmm>
void xbyak_kernel::sum_lanes(const kernel_plan& p, const kernel_plan::variant& v, std::vector<int>& result) {
  // A packed vector: accumulator ids[b] in its b-th block of lanes (at most
  // 4 blocks, one a 128-bit quarter). Arrays: codegen is allocation-bound here.
  struct packed {
    int reg;
    std::array<int, 4> ids;
    int blocks;
  };
  std::vector<packed> level;
  level.reserve(std::size_t(v.rows * v.ur));
  for (int id = 0; id < v.rows * v.ur; ++id) level.push_back({v.acc_register(id / v.ur, id % v.ur), {id}, 1});
  // Free after the steps: the weight and the first input register.
  const int t = v.weight, u = v.first_src;
  // Pairs vectors (the last of an odd count with itself) into one of
  // half-width blocks: a's blocks, then b's.
  auto pair_up = [&](auto&& shuffle) {
    std::size_t joined = 0;  // level[joined] is written after level[2 * joined] and the next are read
    for (std::size_t i = 0; i < level.size(); i += 2, ++joined) {
      packed a = level[i];
      const packed& b = level[std::min(i + 1, level.size() - 1)];
      shuffle(a.reg, b.reg);
      vaddps(Vmm(a.reg), Vmm(t), Vmm(u));
      for (int k = 0; k < b.blocks; ++k) a.ids[std::size_t(a.blocks + k)] = b.ids[std::size_t(k)];
      a.blocks += b.blocks;
      level[joined] = a;
    }
    level.resize(joined);
  };
  if constexpr (std::is_same_v<Vmm, Zmm>) {
    // 16 -> 8 lanes: 256-bit halves; 8 -> 4: 128-bit quarters, one accumulator each.
    pair_up([&](int a, int b) {
      vshuff32x4(Zmm(t), Zmm(a), Zmm(b), 0x44);  // a.q0 a.q1 b.q0 b.q1
      vshuff32x4(Zmm(u), Zmm(a), Zmm(b), 0xee);  // a.q2 a.q3 b.q2 b.q3
    });
    pair_up([&](int a, int b) {
      vshuff32x4(Zmm(t), Zmm(a), Zmm(b), 0x88);  // a.q0 a.q2 b.q0 b.q2
      vshuff32x4(Zmm(u), Zmm(a), Zmm(b), 0xdd);  // a.q1 a.q3 b.q1 b.q3
    });
  } else {
    pair_up([&](int a, int b) {  // 8 -> 4 lanes: 128-bit halves
      vperm2f128(Ymm(t), Ymm(a), Ymm(b), 0x20);
      vperm2f128(Ymm(u), Ymm(a), Ymm(b), 0x31);
    });
  }
  // Within each 128-bit quarter q: 4 -> 2 lanes, then 2 -> 1, the sums of
  // a's and b's accumulator q in lanes 0 and 2.
  const int quarters = p.vlen / 4;
  std::vector<std::array<int, 2>> quarter_ids;  // per final vector and quarter: the ids in lanes 0 and 2
  std::vector<int> finals;
  for (std::size_t i = 0; i < level.size(); i += 2) {
    const packed& a = level[i];
    const packed& b = level[std::min(i + 1, level.size() - 1)];
    vshufps(Vmm(t), Vmm(a.reg), Vmm(b.reg), 0x44);  // a0 a1 b0 b1
    vshufps(Vmm(u), Vmm(a.reg), Vmm(b.reg), 0xee);  // a2 a3 b2 b3
    vaddps(Vmm(a.reg), Vmm(t), Vmm(u));
    vshufps(Vmm(t), Vmm(a.reg), Vmm(a.reg), 0xb1);  // neighbours swapped
    vaddps(Vmm(a.reg), Vmm(a.reg), Vmm(t));
    finals.push_back(a.reg);
    for (int q = 0; q < quarters; ++q) quarter_ids.push_back({a.ids[std::size_t(q)], b.ids[std::size_t(q)]});
  }
  // Each sum to lane 0 of a register of its own: a final vector keeps the
  // sum in its lane 0; the others go to the accumulators no longer used
  // (as many), none written before every sum has left the final vectors.
  std::vector<bool> placed(result.size(), false);
  for (std::size_t f = 0; f < finals.size(); ++f) {
    const int low = quarter_ids[f * std::size_t(quarters)][0];
    placed[std::size_t(low)] = true;
    result[std::size_t(low)] = finals[f];
  }
  std::vector<int> spare;
  for (int id = 0; id < v.rows * v.ur; ++id) {
    const int reg = v.acc_register(id / v.ur, id % v.ur);
    if (std::find(finals.begin(), finals.end(), reg) == finals.end()) spare.push_back(reg);
  }
  std::size_t next_spare = 0;
  auto place = [&](int id, auto&& extract) {
    if (placed[std::size_t(id)]) return;  // a copy from an odd count's self-pairing
    placed[std::size_t(id)] = true;
    result[std::size_t(id)] = spare[next_spare++];
    extract(Xmm(result[std::size_t(id)]));
  };
  for (std::size_t f = 0; f < finals.size(); ++f) {
    const int k = finals[f];
    for (int q = 0; q < quarters; ++q) {
      const auto [low, high] = quarter_ids[f * std::size_t(quarters) + std::size_t(q)];
      if (q == 0) {  // low stays in lane 0
        place(high, [&](const Xmm& to) { vmovhlps(to, to, Xmm(k)); });
        continue;
      }
      // Quarter q to lane 0 of low's register, its lane 2 to high's.
      if (placed[std::size_t(low)] && placed[std::size_t(high)]) continue;
      auto extract = [&](const Xmm& to) {
        if constexpr (std::is_same_v<Vmm, Zmm>) vextractf32x4(to, Zmm(k), std::uint8_t(q));
        else vextractf128(to, Ymm(k), std::uint8_t(q));
      };
      Xmm quarter(t);
      if (placed[std::size_t(low)]) extract(quarter);
      else
        place(low, [&](const Xmm& to) {
          extract(to);
          quarter = to;
        });
      place(high, [&](const Xmm& to) { vmovhlps(to, to, quarter); });
    }
  }
}

}  // namespace convjit
