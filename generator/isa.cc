// SPDX-License-Identifier: MIT
// ISA detection and the CONVJIT_MAX_ISA cap.
#include "generator/isa.h"

#include <fmt/format.h>

#include <cstdlib>

#include "generator/error.h"

namespace convjit {

std::string_view isa_name(isa i) {
  switch (i) {
    case isa::scalar: return "scalar";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
  }
  return "scalar";
}

isa parse_isa(std::string_view name) {
  if (name == "avx512") return isa::avx512;
  if (name == "avx2") return isa::avx2;
  if (name == "scalar" || name == "none") return isa::scalar;
  throw error(errc::invalid_argument, fmt::format("unknown ISA '{}': expected avx512, avx2, scalar or none", name));
}

isa host_isa() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("bmi2");  // every such CPU: the kernels' masks use bzhi
  if (avx512) return isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return isa::avx2;
  return isa::scalar;
}

isa max_isa() {
  static const isa capped = [] {
    const isa host = host_isa();
    const char* cap = std::getenv("CONVJIT_MAX_ISA");
    if (!cap || !*cap) return host;
    const isa limit = parse_isa(cap);
    return is_subset(limit, host) ? limit : host;
  }();
  return capped;
}

}  // namespace convjit
