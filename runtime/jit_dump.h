// SPDX-License-Identifier: MIT
// CONVJIT_DUMP=dir: every generated kernel's code written to dir/<name><suffix>.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace convjit {

/** Whether CONVJIT_DUMP is set. */
bool dump_enabled();

/** Writes bytes to $CONVJIT_DUMP/<name><suffix> when CONVJIT_DUMP is set;
 * a failure is reported on stderr, never thrown: dumps are diagnostics. */
void dump_code(const std::string& name, const std::string& suffix, std::span<const std::uint8_t> bytes);

/** Disassembles x86-64 machine code with objdump. Throws io_error without it. */
std::string disassemble(std::span<const std::uint8_t> code);

/** Disassembles an object file (any architecture objdump knows), by symbol. */
std::string disassemble_object(std::span<const std::uint8_t> object);

}  // namespace convjit
