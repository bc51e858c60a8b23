// SPDX-License-Identifier: MIT
// The LLVM backend. Built with LLVM's compile flags (no exceptions): failures
// come back through return values; dispatch turns them into errors.
#include "runtime/llvm_jit.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectTransformLayer.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>

#include "generator/emit_llvm.h"
#include "runtime/jit_dump.h"

namespace convjit {
namespace {

// One LLJIT for the process, and the object file of each module it compiles
// (for `convjit asm` and dumps), keyed by module name.
struct jit_state {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::string error;  // why there is no jit
  std::mutex mutex;
  std::map<std::string, std::vector<std::uint8_t>> objects;
};

// Never destroyed: kernels in static caches may release their code after
// every other static is gone.
jit_state& the_jit() {
  static jit_state* state = [] {
    auto* s = new jit_state;
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto machine = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!machine) {
      s->error = llvm::toString(machine.takeError());
      return s;
    }
    machine->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*machine)).create();
    if (!jit) {
      s->error = llvm::toString(jit.takeError());
      return s;
    }
    s->jit = std::move(*jit);
    s->jit->getIRTransformLayer().setTransform(
        [](llvm::orc::ThreadSafeModule module, const llvm::orc::MaterializationResponsibility&) {
          module.withModuleDo([](llvm::Module& m) { optimize_llvm_module(m); });
          return llvm::Expected<llvm::orc::ThreadSafeModule>(std::move(module));
        });
    s->jit->getObjTransformLayer().setTransform([s](std::unique_ptr<llvm::MemoryBuffer> object) {
      std::lock_guard lock(s->mutex);
      s->objects[object->getBufferIdentifier().str()].assign(object->getBufferStart(), object->getBufferEnd());
      return llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>(std::move(object));
    });
    return s;
  }();
  return *state;
}

// Removes a kernel's code from the JIT when the kernel goes.
struct llvm_code {
  llvm::orc::ResourceTrackerSP tracker;
  std::vector<std::uint8_t> object;  // the object file, for dumps and `convjit asm`
  ~llvm_code() {
    if (auto error = tracker->remove()) llvm::consumeError(std::move(error));
  }
};

}  // namespace

std::string llvm_kernel_ir(const kernel_plan& plan, std::string* why) {
  return emit_llvm_ir(plan, host_llvm_target(plan.target), why);
}

std::shared_ptr<const kernel> build_llvm_kernel(const kernel_plan& plan, std::string* why) {
  const auto start = std::chrono::steady_clock::now();
  jit_state& state = the_jit();
  if (!state.jit) {
    *why = "LLVM cannot JIT for this host: " + state.error;
    return nullptr;
  }
  // Symbols are unique per build: an evicted kernel may still be running
  // when the same plan is built again.
  static std::atomic<std::uint64_t> builds{0};
  const std::string prefix = fmt::format("{}_{}", plan.name(), ++builds);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = emit_llvm_module(plan, *context, host_llvm_target(plan.target), prefix);
  if (!verify_llvm_module(*module, why)) return nullptr;
  if (dump_enabled()) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    module->print(os, nullptr);
    dump_code(plan.name(), ".ll", std::span(reinterpret_cast<const std::uint8_t*>(ir.data()), ir.size()));
  }

  auto code = std::make_shared<llvm_code>();
  code->tracker = state.jit->getMainJITDylib().createResourceTracker();
  if (auto error = state.jit->addIRModule(code->tracker, llvm::orc::ThreadSafeModule(std::move(module), std::move(context)))) {
    *why = llvm::toString(std::move(error));
    return nullptr;
  }
  auto k = std::make_shared<kernel>();
  k->from = backend::llvm;
  k->name = plan.name();
  k->plan = plan;
  for (const auto& v : plan.variants()) {
    auto address = state.jit->lookup(llvm_function_name(prefix, v));  // compiles the module on first lookup
    if (!address) {
      *why = llvm::toString(address.takeError());
      return nullptr;
    }
    k->entries.push_back(address->toPtr<conv1d_kernel_fn>());
  }
  {
    std::lock_guard lock(state.mutex);
    for (auto it = state.objects.begin(); it != state.objects.end(); ++it)
      // The buffer is named after the module; "<plan>_1" must not take "<plan>_12"'s.
      if (it->first.rfind(prefix, 0) == 0 && !std::isdigit(static_cast<unsigned char>(it->first[prefix.size()]))) {
        code->object = std::move(it->second);
        state.objects.erase(it);
        break;
      }
  }
  k->code = code->object;
  k->owner = code;
  k->build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  dump_code(k->name, ".o", k->code);
  return k;
}

}  // namespace convjit
