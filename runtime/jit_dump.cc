// SPDX-License-Identifier: MIT
// Kernel dumps and disassembly.
#include "runtime/jit_dump.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "generator/error.h"

namespace convjit {

bool dump_enabled() {
  const char* dir = std::getenv("CONVJIT_DUMP");
  return dir && *dir;
}

void dump_code(const std::string& name, const std::string& suffix, std::span<const std::uint8_t> bytes) {
  const char* dir = std::getenv("CONVJIT_DUMP");
  if (!dir || !*dir) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = std::filesystem::path(dir) / (name + suffix);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) fmt::print(stderr, "convjit: cannot write dump {}\n", path.string());
}

namespace {

// objdump's output for `code` written to a scratch file, with `options`.
std::string objdump(std::span<const std::uint8_t> code, std::string_view options) {
  const auto path = std::filesystem::temp_directory_path() / fmt::format("convjit_asm_{}.bin", getpid());
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(code.data()), std::streamsize(code.size()));
  }
  const std::string command = fmt::format("objdump {} -M intel --no-show-raw-insn '{}' 2>&1", options, path.string());
  FILE* pipe = popen(command.c_str(), "r");
  std::string text;
  char buffer[4096];
  while (pipe && !std::feof(pipe)) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe);
    text.append(buffer, n);
  }
  const int status = pipe ? pclose(pipe) : -1;
  std::filesystem::remove(path);
  if (status != 0) throw error(errc::io_error, "objdump failed or is missing (apt-get install binutils)");
  return text;
}

}  // namespace

std::string disassemble(std::span<const std::uint8_t> code) {
  const std::string text = objdump(code, "-D -b binary -m i386:x86-64");
  // Keep the instructions: objdump's header ends at the "<.data>:" line.
  const auto start = text.find("<.data>:\n");
  return start == std::string::npos ? text : text.substr(start + 9);
}

std::string disassemble_object(std::span<const std::uint8_t> object) {
  const std::string text = objdump(object, "-d");
  const auto start = text.find("Disassembly of section");
  return start == std::string::npos ? text : text.substr(start);
}

}  // namespace convjit
