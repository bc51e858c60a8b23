// SPDX-License-Identifier: MIT
// The LLVM backend beyond what the golden and sweep tests cover: the IR
// verifies for every kind of plan at every ISA, an AArch64 object file comes
// out of the same emitter, and released kernels leave the JIT while the same
// plan builds again.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "generator/emit_llvm.h"
#include "runtime/conv1d.h"
#include "runtime/llvm_jit.h"
#include "runtime/reference.h"

namespace convjit {
namespace {

// Dense, strided (phases), depthwise (src from memory), tap-segment windows, no bias.
const char* const kSpecs[] = {"Conv1d(512, 512, 3, stride=2, padding=1)", "Conv1d(1, 512, 10, stride=5, bias=False)",
                              "Conv1d(256, 256, 31, padding=15, groups=256)", "Conv1d(64, 128, 2, dilation=512)",
                              "Conv1d(3, 7, 5, stride=8, dilation=3, padding_mode='circular', padding=6)",
                              "Conv1d(0, 4, 3)"};

kernel_plan plan_of(const char* text, isa target) {
  std::string why;
  auto plan = make_plan(parse_spec(text), target, &why);
  EXPECT_TRUE(plan) << text << ": " << why;
  return *plan;
}

TEST(llvm_test, ir_verifies_for_every_plan_kind) {
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan plan = plan_of(text, target);
      std::string why;
      const std::string ir = emit_llvm_ir(plan, host_llvm_target(target), &why);
      ASSERT_FALSE(ir.empty()) << text << ": " << why;
      for (const auto& v : plan.variants())
        EXPECT_NE(ir.find("@" + llvm_function_name(plan.name(), v) + "("), std::string::npos) << text;
      const std::string vector = fmt::format("<{} x float>", plan.vlen);
      EXPECT_NE(ir.find(vector), std::string::npos) << text;
      if (plan.spec.in_channels > 0) {
        EXPECT_NE(ir.find(target == isa::scalar ? "@llvm.fmuladd" : "@llvm.fma"), std::string::npos) << text;
      }
    }
}

// The portable plan for an AArch64 CPU: an ELF relocatable for EM_AARCH64 with
// NEON multiply-adds, built on this x86 host without running it.
TEST(llvm_test, emits_an_aarch64_object) {
  const kernel_plan plan = plan_of("Conv1d(80, 512, 3, padding=1)", isa::scalar);
  std::string why;
  const auto object = emit_llvm_object(plan, {"aarch64-unknown-linux-gnu", "cortex-a72", "+neon"}, &why);
  ASSERT_GT(object.size(), 64u) << why;
  EXPECT_EQ(std::memcmp(object.data(), "\x7f" "ELF", 4), 0);
  std::uint16_t machine = 0;
  std::memcpy(&machine, object.data() + 18, sizeof machine);  // e_machine, little-endian
  EXPECT_EQ(machine, 183);  // EM_AARCH64
  const auto x86 = emit_llvm_object(plan, host_llvm_target(isa::scalar), &why);
  ASSERT_FALSE(x86.empty()) << why;
  std::memcpy(&machine, x86.data() + 18, sizeof machine);
  EXPECT_EQ(machine, 62);  // EM_X86_64
  EXPECT_TRUE(emit_llvm_object(plan, {"no-such-arch-none", "", ""}, &why).empty());
  EXPECT_NE(why.find("cannot generate code"), std::string::npos) << why;
}

// A kernel released by every holder is removed from the JIT (its resource
// tracker); building the same plan again gives fresh, working code.
TEST(llvm_test, rebuilds_after_release) {
  const conv1d_spec spec = parse_spec("Conv1d(6, 8, 3, padding=1)");
  const ncl_shape in{2, 6, 37};
  std::vector<float> x(std::size_t(in.count())), w(std::size_t(spec.weight_count())), b(8, 0.5f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3.0f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i % 5) * 0.25f;
  std::vector<float> expected(std::size_t(output_shape(spec, in).count()));
  reference_conv1d(spec, in, x.data(), w.data(), b.data(), expected.data());
  const std::vector<std::int64_t> dims = {2, 6, 37};
  for (int round = 0; round < 3; ++round) {
    std::string why;
    auto k = build_llvm_kernel(plan_of("Conv1d(6, 8, 3, padding=1)", isa::scalar), &why);
    ASSERT_TRUE(k) << why;
    EXPECT_FALSE(k->code.empty());  // the object file, for `convjit asm`
    k.reset();  // removed from the JIT here
  }
  conv1d_options options;
  options.force_backend = backend::llvm;
  std::vector<float> y(expected.size());
  conv1d::create(spec, w, b, options).forward(x, dims, y);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], expected[i], 1e-4) << i;
}

}  // namespace
}  // namespace convjit
