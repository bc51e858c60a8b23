// SPDX-License-Identifier: MIT
// The Xbyak JIT backend.
#include "runtime/xbyak_jit.h"

#include <chrono>

#include "generator/emit_xbyak.h"
#include "runtime/jit_dump.h"

namespace convjit {

std::shared_ptr<const kernel> build_xbyak_kernel(const kernel_plan& plan) {
  const auto start = std::chrono::steady_clock::now();
  // The generators own the code; the kernel record keeps them alive.
  auto block = std::make_shared<xbyak_kernel>(plan, plan.oc_block);
  std::shared_ptr<xbyak_kernel> tail;
  if (plan.oc_tail) tail = std::make_shared<xbyak_kernel>(plan, plan.oc_tail);

  auto k = std::make_shared<kernel>();
  k->from = backend::xbyak;
  k->name = plan.name();
  k->plan = plan;
  k->block_fn = block->function();
  k->block_code.assign(block->getCode(), block->getCode() + block->getSize());
  if (tail) {
    k->tail_fn = tail->function();
    k->tail_code.assign(tail->getCode(), tail->getCode() + tail->getSize());
  }
  k->owner = std::make_shared<std::pair<std::shared_ptr<xbyak_kernel>, std::shared_ptr<xbyak_kernel>>>(block, tail);
  k->build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  dump_code(k->name, ".bin", k->block_code);
  if (tail) dump_code(k->name, "_tail.bin", k->tail_code);
  return k;
}

}  // namespace convjit
