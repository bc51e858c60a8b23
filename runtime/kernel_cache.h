// SPDX-License-Identifier: MIT
// kernel_cache: built kernels keyed by (spec, ISA, backend), bounded, LRU.
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "generator/isa.h"
#include "runtime/kernel.h"

namespace convjit {

struct cache_key {
  conv1d_spec spec;
  isa target = isa::scalar;
  backend from = backend::reference;
  bool operator==(const cache_key&) const = default;
};

struct cache_key_hash {
  std::size_t operator()(const cache_key& k) const noexcept;
};

/** Concurrent first use of a key builds once: the first caller builds, the
 * others wait on its shared_future. A build that throws is evicted and its
 * exception reaches every waiter, so the next call tries again. Beyond
 * `capacity` entries the least recently used is dropped; layers that hold its
 * kernel keep it alive. */
class kernel_cache {
 public:
  using kernel_ptr = std::shared_ptr<const kernel>;

  explicit kernel_cache(std::size_t capacity) : capacity_(capacity) {}

  /** The cached kernel of `key`, or build() stored under it. *built (if given)
   * says whether this call built it. */
  kernel_ptr get_or_create(const cache_key& key, const std::function<kernel_ptr()>& build, bool* built = nullptr);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }
  std::size_t builds() const;  // successful and failed
  void clear();

  /** The process-wide cache; CONVJIT_CACHE_CAPACITY sets its size (default 256). */
  static kernel_cache& global();

 private:
  struct entry {
    std::shared_future<kernel_ptr> future;
    std::list<cache_key>::iterator lru;  // position in lru_, most recent first
    std::size_t build_id;                // tells a rebuilt entry from the one that failed
  };

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t builds_ = 0;
  std::list<cache_key> lru_;
  std::unordered_map<cache_key, entry, cache_key_hash> entries_;
};

}  // namespace convjit
