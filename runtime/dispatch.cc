// SPDX-License-Identifier: MIT
// The dispatch list.
#include "runtime/dispatch.h"

#include <fmt/format.h>

#include <cstdlib>

#include "runtime/aot.h"
#include "runtime/kernel_cache.h"
#include "runtime/llvm_jit.h"
#include "runtime/xbyak_jit.h"

namespace convjit {
namespace {

constexpr backend kOrder[] = {backend::aot, backend::xbyak, backend::llvm, backend::reference};

bool verbose() {
  static const bool on = [] {
    const char* v = std::getenv("CONVJIT_VERBOSE");
    return v && *v && std::string_view(v) != "0";
  }();
  return on;
}

std::optional<backend> backend_from_environment() {
  const char* name = std::getenv("CONVJIT_BACKEND");
  if (!name || !*name) return std::nullopt;
  return parse_backend(name);
}

std::shared_ptr<const kernel> reference_kernel() {
  static const auto k = [] {
    auto r = std::make_shared<kernel>();
    r->from = backend::reference;
    r->name = "reference";
    return r;
  }();
  return k;
}

// The kernel of `b` for `spec` on `target`, or null with *why set.
std::shared_ptr<const kernel> try_backend(backend b, const conv1d_spec& spec, isa target, std::string* why,
                                          bool* built) {
  switch (b) {
    case backend::aot:
      return find_aot_kernel(spec, target, why);
    case backend::llvm: {
#ifdef CONVJIT_HAVE_LLVM
      auto plan = make_plan(spec, target, why);
      if (!plan) return nullptr;
      try {
        return kernel_cache::global().get_or_create(
            {spec, target, backend::llvm},
            [&] {
              std::string failure;
              auto k = build_llvm_kernel(*plan, &failure);
              if (!k) throw error(errc::backend_unavailable, failure);
              return k;
            },
            built);
      } catch (const error& e) {
        *why = e.what();
        return nullptr;
      }
#else
      *why = "this build has no LLVM backend (llvm-19-dev was not found)";
      return nullptr;
#endif
    }
    case backend::reference:
      return reference_kernel();
    case backend::xbyak: {
      if (!is_subset(isa::avx2, target)) {
        *why = "Xbyak emits AVX2 and AVX-512 only; this CPU (or CONVJIT_MAX_ISA) allows neither";
        return nullptr;
      }
      auto plan = make_plan(spec, target, why);
      if (!plan) return nullptr;
      return kernel_cache::global().get_or_create(
          {spec, target, backend::xbyak}, [&] { return build_xbyak_kernel(*plan); }, built);
    }
  }
  return nullptr;
}

}  // namespace

std::vector<backend> available_backends() {
  std::vector<backend> available;
  if (aot_kernel_count() > 0) available.push_back(backend::aot);
  if (mayiuse(isa::avx2)) available.push_back(backend::xbyak);
#ifdef CONVJIT_HAVE_LLVM
  available.push_back(backend::llvm);
#endif
  available.push_back(backend::reference);
  return available;
}

std::shared_ptr<const kernel> select_kernel(const conv1d_spec& spec, std::optional<backend> forced,
                                            std::optional<isa> cap) {
  if (!forced) forced = backend_from_environment();
  isa target = max_isa();
  if (cap && is_subset(*cap, target)) target = *cap;
  std::string skipped;
  for (backend b : kOrder) {
    if (forced && b != *forced) continue;
    std::string why;
    bool built = false;
    auto k = try_backend(b, spec, target, &why, &built);
    if (k) {
      if (verbose())
        fmt::print(stderr, "convjit: {}: {} kernel {}{}{}{}\n", to_string(spec), backend_name(b), k->name,
                   k->plan ? fmt::format(" ({})", k->plan->describe()) : "",
                   built ? fmt::format(", generated in {:.0f} us", k->build_us) : k->plan ? ", from the cache" : "",
                   skipped.empty() ? "" : "; skipped " + skipped);
      return k;
    }
    if (forced)
      throw error(errc::backend_unavailable,
                  fmt::format("backend '{}' cannot run {}: {}", backend_name(b), to_string(spec), why));
    skipped += fmt::format("{}{}: {}", skipped.empty() ? "" : "; ", backend_name(b), why);
  }
  return reference_kernel();  // unreachable: the reference accepts everything
}

}  // namespace convjit
