// SPDX-License-Identifier: MIT
// The Xbyak JIT backend.
#include "runtime/xbyak_jit.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>

#include "generator/emit_xbyak.h"
#include "runtime/jit_dump.h"

namespace convjit {
namespace {

// Code is emitted into this thread's scratch, warm after the first kernel,
// then copied into pages of its own (code_pool): no size estimate, no page
// fault per page. The scratch is left uninitialized, so only the pages code
// reaches are touched: zeroing all 256 KiB took 64 page faults, 0.7 ms of the
// first kernel's 1.3 (a Zen 5 VM), for a kernel of 11 KiB.
std::span<const std::uint8_t> emit_into_scratch(const kernel_plan& plan, std::vector<std::size_t>& entry_offsets) {
  struct scratch_buffer {
    std::size_t size = std::size_t{1} << 18;
    std::unique_ptr<std::uint8_t[]> bytes{new std::uint8_t[size]};
  };
  thread_local scratch_buffer scratch;
  for (;;) {
    try {
      xbyak_kernel code(plan, scratch.bytes.get(), scratch.size);
      entry_offsets = code.entry_offsets();
      return {scratch.bytes.get(), code.getSize()};
    } catch (const Xbyak::Error& e) {
      if (int(e) != Xbyak::ERR_CODE_IS_TOO_BIG || scratch.size >= (std::size_t{1} << 28)) throw;
      scratch.bytes.reset(new std::uint8_t[2 * scratch.size]);  // if it throws, the scratch stays as it was
      scratch.size *= 2;
    }
  }
}

// Executable memory, pooled. A kernel's pages are carved from populated
// mappings, 64 KiB at first and twice the last up to 1 MiB (populating 1 MiB
// took 0.2 ms, a sixth of the first kernel, on a Zen 5 VM), and, once its last
// owner lets go, kept for the next kernel of as many pages; they are writable
// only while code is copied in (W^X: never writable and executable at once).
// An mmap, mprotect and munmap a kernel took 13 us on Zen 4, an eighth of
// generating it; one mprotect a carved kernel and two a reused one take 4 and 6.
class code_pool {
 public:
  /** `bytes` in read/execute pages of their own, back in the pool with the last owner. */
  std::shared_ptr<const void> place(std::span<const std::uint8_t> bytes) {
    const std::size_t length = (bytes.size() + page_ - 1) / page_ * page_;
    auto [memory, reused] = take(length);
    std::shared_ptr<const void> owner(memory, [this, length](const void* p) {
      give_back(static_cast<std::uint8_t*>(const_cast<void*>(p)), length);
    });
    if (reused && mprotect(memory, length, PROT_READ | PROT_WRITE) != 0)
      throw std::runtime_error("mprotect of the kernel's code failed");
    std::memcpy(memory, bytes.data(), bytes.size());
    if (mprotect(memory, length, PROT_READ | PROT_EXEC) != 0) throw std::runtime_error("mprotect of the kernel's code failed");
    return owner;
  }

 private:
  static constexpr std::size_t kFirstChunk = std::size_t{1} << 16, kChunk = std::size_t{1} << 20,
                               kMaxFree = std::size_t{1} << 26;

  // Freed pages of `length` if there are, else new ones; whether they were freed.
  std::pair<std::uint8_t*, bool> take(std::size_t length) {
    std::lock_guard lock(mutex_);
    if (auto it = free_.find(length); it != free_.end()) {
      std::uint8_t* memory = it->second;
      free_.erase(it);
      free_bytes_ -= length;
      return {memory, true};
    }
    if (length > kChunk / 4) return {map(length), false};  // a large kernel maps its own
    if (length > chunk_left_) {
      chunk_size_ = std::min(std::max(2 * chunk_size_, length), kChunk);
      chunk_ = map(chunk_size_);
      chunk_left_ = chunk_size_;
    }
    std::uint8_t* memory = chunk_;
    chunk_ += length;
    chunk_left_ -= length;
    return {memory, false};
  }

  static std::uint8_t* map(std::size_t length) {
    void* memory = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap of kernel code memory failed");
    return static_cast<std::uint8_t*>(memory);
  }

  void give_back(std::uint8_t* memory, std::size_t length) {
    std::lock_guard lock(mutex_);
    if (free_bytes_ + length > kMaxFree) {
      munmap(memory, length);  // a piece of its mapping: the rest stays
      return;
    }
    free_.emplace(length, memory);
    free_bytes_ += length;
  }

  const std::size_t page_ = std::size_t(sysconf(_SC_PAGESIZE));
  std::mutex mutex_;
  std::multimap<std::size_t, std::uint8_t*> free_;  // by length
  std::size_t free_bytes_ = 0;
  std::uint8_t* chunk_ = nullptr;  // the current mapping's pages not yet carved
  std::size_t chunk_left_ = 0;
  std::size_t chunk_size_ = kFirstChunk / 2;  // the last mapping's
};

// Never destroyed: kernels may outlive static destruction's order.
code_pool& executable_memory() {
  static code_pool& pool = *new code_pool;
  return pool;
}

}  // namespace

std::shared_ptr<const kernel> build_xbyak_kernel(const kernel_plan& plan) {
  const auto start = std::chrono::steady_clock::now();
  auto k = std::make_shared<kernel>();
  k->from = backend::xbyak;
  k->name = plan.name();
  k->plan = plan;
  const std::span<const std::uint8_t> bytes = emit_into_scratch(plan, k->entry_offsets);
  k->owner = executable_memory().place(bytes);
  const auto* base = static_cast<const std::uint8_t*>(k->owner.get());
  for (const std::size_t offset : k->entry_offsets)
    k->entries.push_back(reinterpret_cast<conv1d_kernel_fn>(const_cast<std::uint8_t*>(base + offset)));
  k->code = {base, bytes.size()};
  k->build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  dump_code(k->name, ".bin", k->code);
  return k;
}

}  // namespace convjit
