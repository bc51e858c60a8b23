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

// print(model) nesting: one per open "(name): Module(" line. A repeated module
// "(1-4): 4 x Block(" holds its layers until it closes, then repeats them with
// the indices 1..4 in place of "1-4" in their names.
struct container {
  std::string name;
  std::int64_t first_index = 0, repeat = 1;
  std::size_t first_layer = 0;  // layers.size() when it opened
};

// "(0-2): 3 x " -> first index 0, count 3; the name stays "0-2". Else repeat 1.
void parse_repeat(std::string_view head, std::string* name, std::int64_t* first_index, std::int64_t* repeat) {
  const auto x = head.rfind(" x");
  if (x != std::string_view::npos && x + 2 == head.size()) {
    *repeat = std::stoll(std::string(trim(head.substr(head.rfind(' ', x - 1) + 1, x))));
    head = trim(head.substr(0, head.rfind(' ', x - 1)));
  } else if (head.back() != ':') {
    throw error(errc::parse_error, fmt::format("expected 'name:' before the module, found '{}'", head));
  }
  head = trim(head.substr(0, head.size() - 1));
  if (head.size() >= 2 && head.front() == '(' && head.back() == ')') head = head.substr(1, head.size() - 2);
  *name = std::string(head);
  if (*repeat > 1) *first_index = std::stoll(name->substr(0, name->find('-')));
}

// A layer without an input takes the previous layer's output when the channels chain.
void chain_inputs(std::vector<model_layer>& layers) {
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const model_layer& prev = layers[i - 1];
    if (!layers[i].input_dims.empty() || prev.input_dims.empty()) continue;
    try {
      auto out = output_dims(prev.spec, prev.input_dims);
      if (out[out.size() - 2] == layers[i].spec.in_channels) layers[i].input_dims = std::move(out);
    } catch (const error&) {
    }
  }
}

}  // namespace

std::vector<model_layer> parse_model(std::string_view text, std::string_view file_name) {
  std::vector<model_layer> layers;
  std::vector<container> containers;
  std::vector<std::int64_t> pending_input;
  int line_no = 0;
  std::size_t start = 0;
  auto path = [&] {
    std::string p;
    for (const auto& c : containers)
      if (!c.name.empty()) p += c.name + ".";
    return p;
  };
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
          container c;
          c.first_layer = layers.size();
          if (line.front() == '(' && line.find("): ") != std::string_view::npos)
            parse_repeat(trim(line.substr(0, line.rfind(' '))), &c.name, &c.first_index, &c.repeat);
          containers.push_back(std::move(c));
        } else if (line == ")" && !containers.empty()) {
          const container c = containers.back();
          containers.pop_back();
          if (c.repeat > 1) {
            // Its layers' names have path() + c.name + "." in front: repeat them with each index.
            const std::size_t at = path().size();
            std::vector<model_layer> body(layers.begin() + std::ptrdiff_t(c.first_layer), layers.end());
            layers.resize(c.first_layer);
            for (std::int64_t i = 0; i < c.repeat; ++i)
              for (model_layer layer : body) {
                layer.name.replace(at, c.name.size(), std::to_string(c.first_index + i));
                layers.push_back(std::move(layer));
              }
          }
        }
        continue;
      }
      // Name: "name: Conv1d(...)" or print(model)'s "(name): Conv1d(...)" or "(0-2): 3 x Conv1d(...)".
      const std::string_view head = trim(line.substr(0, conv));
      std::int64_t repeat = 1, first_index = 0;
      std::string name;
      if (!head.empty()) parse_repeat(head, &name, &first_index, &repeat);
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
                                  : path() + (repeat > 1 ? std::to_string(first_index + i) : name);
        layer.spec = spec;
        layer.line = line_no;
        if (i == 0) layer.input_dims = input;
        layers.push_back(std::move(layer));
      }
    } catch (const error& e) {
      // Parse messages point at a column of the call; say which line it is.
      throw error(e.code(), fmt::format("{}:{}: {}", file_name, line_no, e.what()));
    } catch (const std::logic_error&) {  // std::stoll on a malformed repeat count
      throw error(errc::parse_error, fmt::format("{}:{}: malformed repeated module '{}'", file_name, line_no, line));
    }
  }
  chain_inputs(layers);
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
