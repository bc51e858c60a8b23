// SPDX-License-Identifier: MIT
// The kernel cache: hits, misses, eviction, one build under concurrency,
// failed builds retried. Run under ThreadSanitizer by ./build.sh test.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/conv1d.h"
#include "runtime/kernel_cache.h"

namespace convjit {
namespace {

cache_key key_of(const char* text) { return {parse_spec(text), isa::avx512, backend::xbyak}; }

kernel_cache::kernel_ptr make_kernel(const std::string& name) {
  auto k = std::make_shared<kernel>();
  k->name = name;
  return k;
}

TEST(kernel_cache_test, hit_miss_evict) {
  kernel_cache cache(2);
  int builds = 0;
  auto build = [&] { ++builds; return make_kernel("k"); };
  bool built = false;
  const auto a = cache.get_or_create(key_of("Conv1d(1, 1, 1)"), build, &built);
  EXPECT_TRUE(built);
  EXPECT_EQ(cache.get_or_create(key_of("Conv1d(1, 1, 1)"), build, &built), a);
  EXPECT_FALSE(built);
  cache.get_or_create(key_of("Conv1d(1, 1, 2)"), build);
  cache.get_or_create(key_of("Conv1d(1, 1, 1)"), build);  // now the most recent
  cache.get_or_create(key_of("Conv1d(1, 1, 3)"), build);  // evicts Conv1d(1, 1, 2)
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(builds, 3);
  cache.get_or_create(key_of("Conv1d(1, 1, 1)"), build, &built);
  EXPECT_FALSE(built);
  cache.get_or_create(key_of("Conv1d(1, 1, 2)"), build, &built);
  EXPECT_TRUE(built);
  EXPECT_EQ(builds, 4);
  // The key includes the ISA and the backend.
  cache_key avx2 = key_of("Conv1d(1, 1, 1)");
  avx2.target = isa::avx2;
  cache.get_or_create(avx2, build, &built);
  EXPECT_TRUE(built);
}

TEST(kernel_cache_test, eight_threads_on_one_key_build_once) {
  kernel_cache cache(16);
  std::atomic<int> builds{0};
  std::atomic<bool> go{false};
  std::vector<kernel_cache::kernel_ptr> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      got[std::size_t(t)] = cache.get_or_create(key_of("Conv1d(16, 16, 3)"), [&] {
        ++builds;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // everyone arrives while it builds
        return make_kernel("shared");
      });
    });
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(builds, 1);
  for (const auto& k : got) EXPECT_EQ(k, got[0]);
}

TEST(kernel_cache_test, many_keys_many_threads) {
  kernel_cache cache(8);
  std::atomic<int> builds{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const std::string text = "Conv1d(1, 1, " + std::to_string(1 + i % 12) + ")";
        const auto k = cache.get_or_create(key_of(text.c_str()), [&] {
          ++builds;
          return make_kernel(text);
        });
        ASSERT_EQ(k->name, text);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.size(), 8u);
  EXPECT_GE(builds, 12);
}

TEST(kernel_cache_test, failed_build_reaches_waiters_and_is_retried) {
  kernel_cache cache(4);
  EXPECT_THROW(cache.get_or_create(key_of("Conv1d(2, 2, 2)"), []() -> kernel_cache::kernel_ptr {
                 throw std::runtime_error("assembler failed");
               }),
               std::runtime_error);
  EXPECT_EQ(cache.size(), 0u);
  bool built = false;
  EXPECT_EQ(cache.get_or_create(key_of("Conv1d(2, 2, 2)"), [] { return make_kernel("ok"); }, &built)->name, "ok");
  EXPECT_TRUE(built);
}

// Through the public API: eight threads creating the same layer share one kernel.
TEST(kernel_cache_test, layers_share_generated_code) {
  if (!mayiuse(isa::avx2)) GTEST_SKIP() << "no vector ISA to generate for";
  const conv1d_spec spec = parse_spec("Conv1d(24, 40, 5, stride=3, padding=2)");
  const std::vector<float> w(static_cast<std::size_t>(spec.weight_count()), 0.25f), b(40, 1.0f);
  const std::size_t builds_before = kernel_cache::global().builds();
  std::vector<std::string> names(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] { names[std::size_t(t)] = conv1d::create(spec, w, b).kernel_name(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(kernel_cache::global().builds() - builds_before, 1u);
  for (const auto& n : names) EXPECT_EQ(n, names[0]);
}

}  // namespace
}  // namespace convjit
