// SPDX-License-Identifier: MIT
// Instruction sets as a bitmask, host detection and the CONVJIT_MAX_ISA cap.
#pragma once

#include <cstdint>
#include <string_view>

namespace convjit {

/** Each ISA includes the bits of those below it, so is_subset() is a mask test. */
enum class isa : std::uint32_t {
  scalar = 0,
  avx2 = 1u << 0,                 // AVX2 + FMA, 16 ymm
  avx512 = avx2 | (1u << 1),      // AVX-512 F/BW/VL/DQ, 32 zmm, mask registers
};

constexpr bool is_subset(isa a, isa b) {
  return (static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b)) == static_cast<std::uint32_t>(a);
}

std::string_view isa_name(isa i);
/** "scalar" (or "none"), "avx2", "avx512"; throws invalid_argument otherwise. */
isa parse_isa(std::string_view name);

/** What the CPU supports. */
isa host_isa();

/** host_isa() capped by CONVJIT_MAX_ISA=avx2|avx512|none, read once. */
isa max_isa();

/** Whether code for `i` may run here (within the cap). */
inline bool mayiuse(isa i) { return is_subset(i, max_isa()); }

/** Floats per vector register and number of vector registers. A scalar
 * target gets portable 4-float vectors (C++ arrays, LLVM <4 x float>) that the
 * compiler maps onto the 128-bit SIMD every 64-bit CPU has (SSE2, NEON). */
constexpr int vector_floats(isa i) { return i == isa::avx512 ? 16 : i == isa::avx2 ? 8 : 4; }
constexpr int vector_registers(isa i) { return i == isa::avx512 ? 32 : 16; }

}  // namespace convjit
