// SPDX-License-Identifier: MIT
// evex_assembler writes exactly Xbyak's bytes, for the forms it encodes itself
// and for those it leaves to Xbyak.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "generator/emit_xbyak.h"

namespace convjit {
namespace {

using namespace Xbyak;
using namespace Xbyak::util;

// Emits the same instructions through Xbyak and through evex_assembler.
class both_assemblers {
 public:
  template <class Emit>
  void expect_same(const Emit& emit, const std::string& what) {
    xbyak_.reset();
    ours_.reset();
    emit(xbyak_);
    emit(ours_);
    const std::vector<std::uint8_t> expected(xbyak_.getCode(), xbyak_.getCode() + xbyak_.getSize());
    const std::vector<std::uint8_t> got(ours_.getCode(), ours_.getCode() + ours_.getSize());
    EXPECT_EQ(got, expected) << what;
    ++cases_;
  }
  int cases() const { return cases_; }

 private:
  CodeGenerator xbyak_{4096};
  evex_assembler ours_{4096};
  int cases_ = 0;
};

const int kRegisters[] = {0, 1, 5, 7, 8, 12, 15, 16, 20, 23, 24, 29, 31};
// Around each displacement-size boundary, compressed (a zmm's 64 bytes, a
// float's 4) or not.
const int kDisplacements[] = {0,    4,     -4,   60,   64,    -64,     100,       508,      512,      -512,
                              8128, -8192, 8192, 8191, -8256, 1 << 20, -(1 << 20), 0x7fffffff, -0x7fffffff - 1};

// Every general-purpose base, every index (rsp cannot be one) and scale.
std::vector<RegExp> addresses() {
  std::vector<RegExp> all;
  for (int base = 0; base < 16; ++base)
    for (int index = -1; index < 16; ++index)
      for (int scale : {1, 2, 4, 8}) {
        if (index == 4 || (index < 0 && scale > 1)) continue;
        for (int disp : kDisplacements) {
          RegExp e = RegExp(Reg64(base)) + disp;
          if (index >= 0) e = e + Reg64(index) * scale;
          all.push_back(e);
        }
      }
  return all;
}

TEST(emit_xbyak_test, register_forms_match_xbyak) {
  both_assemblers both;
  for (int a = 0; a < 32; ++a)
    for (int b = 0; b < 32; ++b)
      for (int c = 0; c < 32; ++c) {
        const Zmm x(a), y(b), z(c);
        both.expect_same(
            [&](auto& g) {
              g.vfmadd231ps(x, y, z);
              g.vaddps(x, y, z);
              g.vxorps(x, y, z);
              g.valignd(x, y, z, std::uint8_t(c % 16));
            },
            "zmm" + std::to_string(a) + ", zmm" + std::to_string(b) + ", zmm" + std::to_string(c));
      }
  for (int a = 0; a < 32; ++a)
    for (int b = 0; b < 32; ++b)
      both.expect_same(
          [&](auto& g) {
            g.vmovups(Zmm(a), Zmm(b));
            g.vmovaps(Zmm(a), Zmm(b));
          },
          "zmm" + std::to_string(a) + ", zmm" + std::to_string(b));
  EXPECT_EQ(both.cases(), 32 * 32 * 32 + 32 * 32);
}

TEST(emit_xbyak_test, memory_forms_match_xbyak) {
  both_assemblers both;
  const std::vector<RegExp> all = addresses();
  for (int a : kRegisters)
    for (const RegExp& e : all) {
      const Zmm x(a), y(31 - a);
      both.expect_same(
          [&](auto& g) {
            g.vfmadd231ps(x, y, g.ptr[e]);
            g.vfmadd231ps(x, y, g.ptr_b[e]);
            g.vaddps(x, y, g.ptr[e]);
            g.vaddps(x, y, g.ptr_b[e]);
            g.vxorps(x, y, g.ptr[e]);
            g.valignd(x, y, g.ptr[e], 3);
            g.vmovups(x, g.ptr[e]);
            g.vmovups(g.ptr[e], x);
            g.vmovaps(x, g.ptr[e]);
            g.vmovaps(g.ptr[e], x);
            g.vbroadcastss(x, g.ptr[e]);
          },
          "zmm" + std::to_string(a) + " with address case " + std::to_string(&e - all.data()));
    }
  EXPECT_GT(both.cases(), 10000);
}

// Forms it leaves to Xbyak: masks, zeroing, narrower vectors, rip-relative
// and 32-bit addresses, two-operand forms, register broadcasts.
TEST(emit_xbyak_test, other_forms_go_to_xbyak) {
  both_assemblers both;
  both.expect_same(
      [&](auto& g) {
        Label data;
        g.vfmadd231ps(zmm1 | k1, zmm2, zmm3);
        g.vfmadd231ps(zmm1 | k1, zmm2, g.ptr[rsi + 64]);
        g.vmovups(zmm4 | k3 | T_z, g.ptr[rcx + r9 + 128]);
        g.vmovups(g.ptr[rcx] | k3, zmm4);
        g.vmovups(ymm4, g.ptr[rsi + 32]);
        g.vmovups(g.ptr[rsi + 32], xmm7);
        g.vfmadd231ps(ymm1, ymm2, g.ptr[rdx + 8]);
        g.vfmadd231ps(xmm1, xmm2, xmm3);
        g.vfmadd231ps(ymm17, ymm2, g.ptr_b[rdx + 8]);
        g.vaddps(zmm1, zmm2);
        g.vxorps(ymm3, ymm3, ymm3);
        g.vaddps(zmm3, zmm3, zmm3 | T_rn_sae);
        g.vbroadcastss(zmm5, xmm6);
        g.vbroadcastss(ymm5, g.ptr[rsi + 4]);
        g.vmovups(zmm2, g.ptr[g.rip + data]);
        g.vmovups(zmm2, g.ptr[esi + 64]);
        g.L(data);
        g.dd(0);
      },
      "masked, narrow, rip-relative and 32-bit forms");
}

}  // namespace
}  // namespace convjit
