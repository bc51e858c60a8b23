// SPDX-License-Identifier: MIT
// The kernel cache.
#include "runtime/kernel_cache.h"

#include <cstdlib>
#include <string>

namespace convjit {

std::size_t cache_key_hash::operator()(const cache_key& k) const noexcept {
  std::size_t h = 0;
  auto mix = [&h](std::uint64_t v) { h ^= std::hash<std::uint64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  const conv1d_spec& s = k.spec;
  for (std::int64_t v : {s.in_channels, s.out_channels, s.kernel_size, s.stride, s.padding, s.dilation, s.groups})
    mix(std::uint64_t(v));
  mix(std::uint64_t(s.padding_kind) | std::uint64_t(s.mode) << 8 | std::uint64_t(s.bias) << 16 |
      std::uint64_t(k.target) << 24 | std::uint64_t(k.from) << 40);
  return h;
}

kernel_cache::kernel_ptr kernel_cache::get_or_create(const cache_key& key, const std::function<kernel_ptr()>& build,
                                                     bool* built) {
  std::promise<kernel_ptr> promise;
  std::shared_future<kernel_ptr> future;
  bool builder = false;
  std::size_t build_id = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      future = it->second.future;
    } else {
      builder = true;
      future = promise.get_future().share();
      lru_.push_front(key);
      build_id = ++builds_;
      entries_.emplace(key, entry{future, lru_.begin(), build_id});
      while (entries_.size() > capacity_) {
        entries_.erase(lru_.back());
        lru_.pop_back();
      }
    }
  }
  if (built) *built = builder;
  if (!builder) return future.get();  // rethrows a failed build
  try {
    promise.set_value(build());
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.build_id == build_id) {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  return future.get();
}

std::size_t kernel_cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t kernel_cache::builds() const {
  std::lock_guard lock(mutex_);
  return builds_;
}

void kernel_cache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  lru_.clear();
}

kernel_cache& kernel_cache::global() {
  static kernel_cache cache([] {
    const char* text = std::getenv("CONVJIT_CACHE_CAPACITY");
    const long capacity = text ? std::strtol(text, nullptr, 10) : 256;
    return std::size_t(capacity > 0 ? capacity : 256);
  }());
  return cache;
}

}  // namespace convjit
