// SPDX-License-Identifier: MIT
// Every backend at every ISA it generates for: what backend tests run over.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "runtime/aot.h"
#include "runtime/conv1d.h"

namespace convjit::testing {

struct backend_config {
  backend b;
  std::optional<isa> target;  // the ISA cap for code-generating backends

  std::string name() const {
    return std::string(backend_name(b)) + (target ? "_" + std::string(isa_name(*target)) : "");
  }
  conv1d_options options() const {
    conv1d_options o;
    o.force_backend = b;
    o.max_isa = target;
    return o;
  }
  /** Why this host cannot run the config (the test then skips), or "". */
  std::string missing() const {
    if (target && !mayiuse(*target))
      return "this host (or CONVJIT_MAX_ISA) lacks " + std::string(isa_name(*target));
    if (b == backend::aot && aot_kernel_count() == 0) return "no ahead-of-time kernels are linked into this test";
    const auto built = available_backends();
    if (b == backend::llvm && std::find(built.begin(), built.end(), b) == built.end())
      return "this build has no LLVM backend";
    return "";
  }
};

inline std::vector<backend_config> all_backend_configs() {
  return {{backend::reference, std::nullopt}, {backend::xbyak, isa::avx512}, {backend::xbyak, isa::avx2},
          {backend::llvm, isa::avx512},      {backend::llvm, isa::avx2},     {backend::llvm, isa::scalar},
          {backend::aot, isa::avx512},       {backend::aot, isa::avx2},      {backend::aot, isa::scalar}};
}

}  // namespace convjit::testing
