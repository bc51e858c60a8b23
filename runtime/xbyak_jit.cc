// SPDX-License-Identifier: MIT
// The Xbyak JIT backend.
#include "runtime/xbyak_jit.h"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <span>
#include <stdexcept>

#include "generator/emit_xbyak.h"
#include "runtime/jit_dump.h"

namespace convjit {
namespace {

// Code is emitted into this thread's scratch, warm after the first kernel,
// then copied into an exact-size mapping: no size estimate, and one
// populated mapping instead of a page fault per page.
std::span<const std::uint8_t> emit_into_scratch(const kernel_plan& plan, std::vector<std::size_t>& entry_offsets) {
  thread_local std::vector<std::uint8_t> scratch(std::size_t{1} << 18);
  for (;;) {
    try {
      xbyak_kernel code(plan, scratch.data(), scratch.size());
      entry_offsets = code.entry_offsets();
      return {scratch.data(), code.getSize()};
    } catch (const Xbyak::Error& e) {
      if (int(e) != Xbyak::ERR_CODE_IS_TOO_BIG || scratch.size() >= (std::size_t{1} << 28)) throw;
      scratch.assign(scratch.size() * 2, 0);
    }
  }
}

// `bytes` in a new mapping of their own, read/execute only (W^X: never
// writable and executable at once), unmapped with the last owner.
std::shared_ptr<const void> map_executable(std::span<const std::uint8_t> bytes) {
  const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
  const std::size_t length = (bytes.size() + page - 1) / page * page;
  void* memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (memory == MAP_FAILED) throw std::runtime_error("mmap of the kernel's code failed");
  std::shared_ptr<const void> owner(memory, [length](const void* p) { munmap(const_cast<void*>(p), length); });
  std::memcpy(memory, bytes.data(), bytes.size());
  if (mprotect(memory, length, PROT_READ | PROT_EXEC) != 0) throw std::runtime_error("mprotect of the kernel's code failed");
  return owner;
}

}  // namespace

std::shared_ptr<const kernel> build_xbyak_kernel(const kernel_plan& plan) {
  const auto start = std::chrono::steady_clock::now();
  auto k = std::make_shared<kernel>();
  k->from = backend::xbyak;
  k->name = plan.name();
  k->plan = plan;
  const std::span<const std::uint8_t> bytes = emit_into_scratch(plan, k->entry_offsets);
  k->owner = map_executable(bytes);
  const auto* base = static_cast<const std::uint8_t*>(k->owner.get());
  for (const std::size_t offset : k->entry_offsets)
    k->entries.push_back(reinterpret_cast<conv1d_kernel_fn>(const_cast<std::uint8_t*>(base + offset)));
  k->code = {base, bytes.size()};
  k->build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  dump_code(k->name, ".bin", k->code);
  return k;
}

}  // namespace convjit
