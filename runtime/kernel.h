// SPDX-License-Identifier: MIT
// kernel: the code one backend made for one layer spec.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "generator/kernel_abi.h"
#include "generator/plan.h"
#include "runtime/conv1d.h"

namespace convjit {

/** What a backend built for a spec: the plan its code walks, the entry points
 * for a full block of output channels and for the tail block, and what keeps
 * the code alive. The reference backend has no plan and no code. */
struct kernel {
  backend from = backend::reference;
  std::string name;
  std::optional<kernel_plan> plan;
  conv1d_kernel_fn block_fn = nullptr;  // plan->oc_block rows
  conv1d_kernel_fn tail_fn = nullptr;   // plan->oc_tail rows, when there is a tail
  std::vector<std::uint8_t> block_code, tail_code;  // machine code, for dumps and `convjit asm`
  double build_us = 0;                  // planning and generation
  std::shared_ptr<const void> owner;    // the code's memory
};

}  // namespace convjit
