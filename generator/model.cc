// SPDX-License-Identifier: MIT
// Model files: plain layer lists and print(model) output.
#include "generator/model.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "generator/error.h"

namespace convjit {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool starts_with_word(std::string_view s, std::string_view word) {
  return s.substr(0, word.size()) == word && (s.size() == word.size() || s[word.size()] == ' ' || s[word.size()] == '(');
}

// Where the layer's Conv1d call starts, with its optional nn./torch.nn. prefix.
std::size_t find_conv1d(std::string_view line) {
  std::size_t at = line.find("Conv1d(");
  if (at == std::string_view::npos) return at;
  for (std::string_view prefix : {"torch.nn.", "nn."})
    if (at >= prefix.size() && line.substr(at - prefix.size(), prefix.size()) == prefix) return at - prefix.size();
  return at;
}

}  // namespace

std::vector<model_layer> parse_model(std::string_view text, std::string_view file_name) {
  std::vector<model_layer> layers;
  std::vector<std::string> containers;  // print(model) nesting: one name per open "(...): X(" line
  std::vector<std::int64_t> pending_input;
  int line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    const std::string_view line = trim(raw.substr(0, raw.find('#')));
    try {
      if (line.empty()) continue;
      if (starts_with_word(line, "input")) {
        pending_input = parse_dims(line.substr(5));
        continue;
      }
      const std::size_t conv = find_conv1d(line);
      if (conv == std::string_view::npos) {
        // print(model) structure: "(name): Sequential(" opens, ")" closes, the rest is other modules.
        if (line.back() == '(') {
          std::string name;
          if (line.front() == '(' && line.find("): ") != std::string_view::npos)
            name = std::string(line.substr(1, line.find("): ") - 1));
          containers.push_back(std::move(name));
        } else if (line == ")" && !containers.empty()) {
          containers.pop_back();
        }
        continue;
      }
      // Name: "name: Conv1d(...)" or print(model)'s "(name): Conv1d(...)" or "(0-2): 3 x Conv1d(...)".
      std::string_view head = trim(line.substr(0, conv));
      std::int64_t repeat = 1, first_index = 0;
      std::string name;
      if (!head.empty()) {
        if (head.back() != ':') {
          const auto x = head.rfind(" x");
          if (x == std::string_view::npos || x + 2 != head.size())
            throw error(errc::parse_error, fmt::format("expected 'name:' before Conv1d, found '{}'", head));
          repeat = std::stoll(std::string(trim(head.substr(head.rfind(' ', x - 1) + 1, x))));
          head = trim(head.substr(0, head.rfind(' ', x - 1)));
        }
        head = trim(head.substr(0, head.size() - 1));
        if (head.size() >= 2 && head.front() == '(' && head.back() == ')') head = head.substr(1, head.size() - 2);
        name = std::string(head);
        if (repeat > 1) {
          const auto dash = name.find('-');
          first_index = std::stoll(name.substr(0, dash));
        }
      }
      std::string path;
      for (const auto& c : containers)
        if (!c.empty()) path += c + ".";
      std::size_t consumed = 0;
      const std::string_view call = line.substr(conv);
      const conv1d_spec spec = make_spec(parse_args(call, &consumed));
      std::vector<std::int64_t> input = pending_input;
      pending_input.clear();
      const std::string_view rest = trim(call.substr(consumed));
      if (!rest.empty()) {
        if (!starts_with_word(rest, "input"))
          throw error(errc::parse_error, fmt::format("unexpected '{}' after the layer", rest));
        input = parse_dims(rest.substr(5));
      }
      for (std::int64_t i = 0; i < repeat; ++i) {
        model_layer layer;
        layer.name = name.empty() ? fmt::format("layer{}", layers.size())
                                  : path + (repeat > 1 ? std::to_string(first_index + i) : name);
        layer.spec = spec;
        layer.line = line_no;
        layer.input_dims = input;
        if (layer.input_dims.empty() && !layers.empty() && !layers.back().input_dims.empty()) {
          // Chain: a Sequential's next conv reads the previous one's output.
          const auto& prev = layers.back();
          try {
            auto out = output_dims(prev.spec, prev.input_dims);
            if (out[out.size() - 2] == spec.in_channels) layer.input_dims = std::move(out);
          } catch (const error&) {
          }
        }
        layers.push_back(std::move(layer));
      }
    } catch (const error& e) {
      // Parse messages point at a column of the call; say which line it is.
      throw error(e.code(), fmt::format("{}:{}: {}", file_name, line_no, e.what()));
    } catch (const std::logic_error&) {  // std::stoll on a malformed repeat count
      throw error(errc::parse_error, fmt::format("{}:{}: malformed repeated module '{}'", file_name, line_no, line));
    }
  }
  return layers;
}

std::vector<model_layer> load_model(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw error(errc::io_error, fmt::format("cannot read model file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_model(text.str(), path);
}

}  // namespace convjit
