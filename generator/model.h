// SPDX-License-Identifier: MIT
// Model files: the Conv1d layers of a model, one per line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generator/spec.h"

namespace convjit {

struct model_layer {
  std::string name;                       // module path, e.g. "encoder.conv1"
  conv1d_spec spec;
  std::vector<std::int64_t> input_dims;   // empty when the file gives none
  int line = 0;
};

/** Reads a model file. Two spellings, mixable:
 *
 *   # comment
 *   input (1, 80, 3000)                               <- input of the next layer
 *   enc.conv1: Conv1d(80, 512, 3, padding=1)
 *   Conv1d(512, 512, 3, stride=2, padding=1) input (1, 512, 3000)
 *
 * and the verbatim print(model) of a PyTorch model, whose `(name): Conv1d(...)`
 * lines become layers named by their module path (nested Sequential and
 * ModuleList included, `(0-2): 3 x Conv1d(...)` expanded); its other lines are
 * ignored. A layer without an input takes the previous layer's output when the
 * channels chain. Throws convjit::error with "name:line:column" in the message. */
std::vector<model_layer> parse_model(std::string_view text, std::string_view file_name = "<model>");

/** Reads and parses a file; io_error if it cannot be read. */
std::vector<model_layer> load_model(const std::string& path);

}  // namespace convjit
