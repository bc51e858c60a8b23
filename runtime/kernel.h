// SPDX-License-Identifier: MIT
// kernel: the code one backend made for one layer spec.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "generator/kernel_abi.h"
#include "generator/plan.h"
#include "runtime/conv1d.h"

namespace convjit {

/** What a backend built for a spec: the plan its code walks, one entry point
 * per plan variant (plan->variants()), and what keeps the code alive. The
 * reference backend has no plan and no code. */
struct kernel {
  backend from = backend::reference;
  std::string name;
  std::optional<kernel_plan> plan;
  std::vector<conv1d_kernel_fn> entries;     // by plan->variant_index(rows, ur, compact, dot)
  std::span<const std::uint8_t> code;        // machine code (in owner), for dumps and `convjit asm`
  std::vector<std::size_t> entry_offsets;    // where each entry starts in `code`
  double build_us = 0;                       // planning and generation
  std::shared_ptr<const void> owner;         // the code's memory

  conv1d_kernel_fn entry(int rows, int ur, bool compact, bool dot = false) const {
    return entries[std::size_t(plan->variant_index(rows, ur, compact, dot))];
  }
};

}  // namespace convjit
