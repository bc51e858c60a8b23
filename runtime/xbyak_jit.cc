// SPDX-License-Identifier: MIT
// The Xbyak JIT backend.
#include "runtime/xbyak_jit.h"

#include <chrono>

#include "generator/emit_xbyak.h"
#include "runtime/jit_dump.h"

namespace convjit {

std::shared_ptr<const kernel> build_xbyak_kernel(const kernel_plan& plan) {
  const auto start = std::chrono::steady_clock::now();
  // The generator owns the code; the kernel record keeps it alive.
  auto code = std::make_shared<xbyak_kernel>(plan);
  auto k = std::make_shared<kernel>();
  k->from = backend::xbyak;
  k->name = plan.name();
  k->plan = plan;
  const std::size_t variants = plan.variants().size();
  for (std::size_t i = 0; i < variants; ++i) {
    k->entries.push_back(code->function(i));
    k->entry_offsets.push_back(code->entry_offset(i));
  }
  k->code.assign(code->getCode(), code->getCode() + code->getSize());
  k->owner = code;
  k->build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  dump_code(k->name, ".bin", k->code);
  return k;
}

}  // namespace convjit
