// SPDX-License-Identifier: MIT
// The LLVM IR emitter: a kernel_plan as an LLVM module, for the ORC JIT on
// any CPU and for object files of any target LLVM was built for. Its .cc is
// compiled with LLVM's flags (no exceptions); this header names no LLVM type
// but two forward-declared classes, so any translation unit may include it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "generator/plan.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace convjit {

/** What the code is for, in LLVM's spelling. */
struct llvm_target {
  std::string triple;    // e.g. x86_64-pc-linux-gnu, aarch64-linux-gnu
  std::string cpu;       // e.g. sapphirerapids, x86-64-v3, generic
  std::string features;  // e.g. +avx2,+fma
};

/** This host, for code of `target`: the host CPU and its features when that
 * is the host's widest ISA, else that ISA's baseline CPU (x86-64-v4 for
 * avx512, x86-64-v3 for avx2, x86-64 for scalar) with the features above it
 * switched off, so code for a capped ISA never uses instructions above the cap. */
llvm_target host_llvm_target(isa target);

/** The function of variant v: `<prefix>_<rows>x<ur>[_compact]`. */
std::string llvm_function_name(const std::string& prefix, const kernel_plan::variant& v);

/** One function per variant of `plan`, each `void (const conv1d_args*)`: a
 * loop over the input channels whose body is plan.channel_step(), the
 * accumulators in SSA values, llvm.fma on <vlen x float> vectors, every spec
 * value a constant; the CPU and features as function attributes. Walks the
 * plan and decides nothing. */
std::unique_ptr<llvm::Module> emit_llvm_module(const kernel_plan& plan, llvm::LLVMContext& context,
                                               const llvm_target& target, const std::string& prefix);

/** Runs LLVM's verifier; false with *why naming the problems. */
bool verify_llvm_module(const llvm::Module& module, std::string* why);

/** Runs the IR optimizations the JIT applies before code generation. */
void optimize_llvm_module(llvm::Module& module);

/** The module of `plan` as text, after the verifier passed; empty with *why when it did not. */
std::string emit_llvm_ir(const kernel_plan& plan, const llvm_target& target, std::string* why);

/** An object file of `plan`'s module for `target`; empty with *why on failure
 * (e.g. a triple this LLVM cannot generate code for). */
std::vector<std::uint8_t> emit_llvm_object(const kernel_plan& plan, const llvm_target& target, std::string* why);

}  // namespace convjit
