// SPDX-License-Identifier: MIT
// Reads nn.Conv1d as PyTorch spells it: the constructor call and print(model).
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <optional>

#include "generator/error.h"
#include "generator/spec.h"

namespace convjit {
namespace {

// One Python literal: an int, a string, a bare name (True, same, torch.float32)
// or a tuple/list of those. `pos` is where it starts, for error messages.
struct value {
  enum class kind { integer, string, name, tuple } kind = kind::integer;
  std::int64_t integer = 0;
  std::string text;
  std::vector<value> items;
  std::size_t pos = 0;
};

constexpr std::array<std::string_view, 11> kParameterNames = {
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
    "groups",      "bias",         "padding_mode", "device", "dtype"};

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(std::size_t at, std::string_view what, errc code = errc::parse_error) const {
    throw error(code, fmt::format("{} at column {}\n  {}\n  {:>{}}", what, at + 1, text_, "^", at + 1));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at_end() { skip_space(); return pos_ == text_.size(); }
  char peek() { skip_space(); return pos_ < text_.size() ? text_[pos_] : '\0'; }
  std::size_t pos() const { return pos_; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c, std::string_view context) {
    if (!accept(c)) fail(pos_, fmt::format("expected '{}' {}, found {}", c, context, describe_here()));
  }
  std::string describe_here() {
    if (at_end()) return "end of text";
    return fmt::format("'{}'", text_[pos_]);
  }

  // [A-Za-z_][A-Za-z0-9_]* joined by dots: Conv1d, torch.nn.Conv1d, torch.float32.
  std::string_view dotted_name() {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      const bool first = pos_ == start || text_[pos_ - 1] == '.';
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
          (!first && std::isdigit(static_cast<unsigned char>(c))) || (!first && c == '.'))
        ++pos_;
      else
        break;
    }
    return text_.substr(start, pos_ - start);
  }

  value parse_value() {
    value v;
    v.pos = (skip_space(), pos_);
    const char c = peek();
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      ++pos_;
      v.kind = value::kind::tuple;
      while (!accept(close)) {
        v.items.push_back(parse_value());
        if (!accept(',')) {
          expect(close, "to close the tuple");
          break;
        }
      }
    } else if (c == '\'' || c == '"') {
      const std::size_t end = text_.find(c, pos_ + 1);
      if (end == std::string_view::npos) fail(pos_, "unterminated string");
      v.kind = value::kind::string;
      v.text = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
    } else if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) {
      v.integer = parse_integer();
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      v.kind = value::kind::name;
      v.text = std::string(dotted_name());
      if (peek() == '(') fail(pos_, fmt::format("calls such as {}(...) are not supported as argument values", v.text));
    } else {
      fail(pos_, fmt::format("expected a value, found {}", describe_here()));
    }
    return v;
  }

  // Python integer literal: optional sign, digits, '_' between digits.
  std::int64_t parse_integer() {
    const std::size_t start = pos_;
    bool negative = false;
    if (text_[pos_] == '-' || text_[pos_] == '+') negative = text_[pos_++] == '-';
    skip_space();
    if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_])))
      fail(pos_, fmt::format("expected a digit, found {}", describe_here()));
    std::int64_t magnitude = 0;  // accumulated negatively: INT64_MIN fits
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      if (text_[pos_] == '_') {
        if (pos_ + 1 >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))
          fail(pos_, "'_' must separate digits");
        ++pos_;
        continue;
      }
      if (__builtin_mul_overflow(magnitude, 10, &magnitude) ||
          __builtin_sub_overflow(magnitude, text_[pos_] - '0', &magnitude))
        fail(start, "integer does not fit in 64 bits", errc::size_overflow);
      ++pos_;
    }
    if (pos_ < text_.size() && (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.'))
      fail(pos_, "expected an integer");
    if (negative) return magnitude;
    if (magnitude == INT64_MIN) fail(start, "integer does not fit in 64 bits", errc::size_overflow);
    return -magnitude;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// kernel_size=3, (3,), [3] and (3) all mean 3 for a 1-D convolution.
std::int64_t single_int(const parser& p, const value& v, std::string_view name) {
  if (v.kind == value::kind::integer) return v.integer;
  if (v.kind == value::kind::tuple && v.items.size() == 1 && v.items[0].kind == value::kind::integer)
    return v.items[0].integer;
  if (v.kind == value::kind::tuple && v.items.size() != 1)
    p.fail(v.pos, fmt::format("{} of a Conv1d takes one value, got {}", name, v.items.size()));
  p.fail(v.pos, fmt::format("{} must be an integer", name));
}

std::int64_t plain_int(const parser& p, const value& v, std::string_view name) {
  if (v.kind != value::kind::integer) p.fail(v.pos, fmt::format("{} must be an integer", name));
  return v.integer;
}

// Strings given quoted, or bare as print(model) writes them (padding_mode=circular).
std::string text_value(const parser& p, const value& v, std::string_view name) {
  if (v.kind != value::kind::string && v.kind != value::kind::name)
    p.fail(v.pos, fmt::format("{} must be a string", name));
  return v.text;
}

void assign(const parser& p, conv1d_constructor_args& a, std::string_view name, const value& v) {
  if (name == "in_channels") a.in_channels = plain_int(p, v, name);
  else if (name == "out_channels") a.out_channels = plain_int(p, v, name);
  else if (name == "kernel_size") a.kernel_size = single_int(p, v, name);
  else if (name == "stride") a.stride = single_int(p, v, name);
  else if (name == "dilation") a.dilation = single_int(p, v, name);
  else if (name == "groups") a.groups = plain_int(p, v, name);
  else if (name == "padding") {
    if (v.kind == value::kind::string || v.kind == value::kind::name) {
      a.padding_text = v.text;
      if (a.padding_text.empty()) a.padding_text = "''";  // an empty string is still an invalid string
    } else {
      a.padding = single_int(p, v, name);
    }
  } else if (name == "bias") {
    if (v.kind == value::kind::name && (v.text == "True" || v.text == "False" || v.text == "None"))
      a.bias = v.text == "True";
    else if (v.kind == value::kind::integer && (v.integer == 0 || v.integer == 1))
      a.bias = v.integer == 1;
    else
      p.fail(v.pos, "bias must be True or False");
  } else if (name == "padding_mode") {
    a.mode = text_value(p, v, name);
  } else if (name == "device") {
    const std::string device = v.kind == value::kind::name && v.text == "None" ? "cpu" : text_value(p, v, name);
    if (device != "cpu") p.fail(v.pos, fmt::format("device '{}' is not supported: convjit runs on the CPU", device),
                                errc::invalid_argument);
  } else if (name == "dtype") {
    const std::string dtype = text_value(p, v, name);
    if (dtype != "None" && dtype != "torch.float32" && dtype != "torch.float" && dtype != "float32")
      p.fail(v.pos, fmt::format("dtype {} is not supported: convjit computes float32", dtype),
             errc::unsupported_dtype);
  }
}

}  // namespace

conv1d_constructor_args parse_args(std::string_view text, std::size_t* consumed) {
  parser p(text);
  const std::size_t name_pos = (p.peek(), p.pos());
  const std::string_view name = p.dotted_name();
  if (name != "Conv1d" && name != "nn.Conv1d" && name != "torch.nn.Conv1d")
    p.fail(name_pos, name.empty() ? "expected Conv1d(...)"
                                  : fmt::format("expected Conv1d, nn.Conv1d or torch.nn.Conv1d, found '{}'", name));
  p.expect('(', "after Conv1d");

  conv1d_constructor_args args;
  std::array<bool, kParameterNames.size()> given{};
  std::size_t positional = 0;
  bool keywords_started = false;
  while (!p.accept(')')) {
    const std::size_t arg_pos = (p.peek(), p.pos());
    std::size_t index = kParameterNames.size();
    // name=value, or a positional value.
    if (std::isalpha(static_cast<unsigned char>(p.peek()))) {
      parser lookahead = p;
      const std::string_view key = lookahead.dotted_name();
      if (lookahead.accept('=')) {
        for (std::size_t i = 0; i < kParameterNames.size(); ++i)
          if (kParameterNames[i] == key) index = i;
        if (index == kParameterNames.size())
          p.fail(arg_pos, fmt::format("Conv1d got an unexpected keyword argument '{}'", key));
        p = lookahead;
        keywords_started = true;
      }
    }
    if (index == kParameterNames.size()) {
      if (keywords_started) p.fail(arg_pos, "positional argument follows keyword argument");
      if (positional == kParameterNames.size()) p.fail(arg_pos, "Conv1d takes at most 11 arguments");
      index = positional++;
    }
    if (given[index]) p.fail(arg_pos, fmt::format("Conv1d got multiple values for argument '{}'", kParameterNames[index]));
    given[index] = true;
    assign(p, args, kParameterNames[index], p.parse_value());
    if (!p.accept(',')) {
      p.expect(')', "or ',' after an argument");
      break;
    }
  }
  for (std::size_t i = 0; i < 3; ++i)
    if (!given[i]) p.fail(p.pos() - 1, fmt::format("Conv1d is missing the required argument '{}'", kParameterNames[i]));
  if (consumed) {
    *consumed = p.pos();
  } else if (!p.at_end()) {
    p.fail(p.pos(), fmt::format("unexpected {} after the closing ')'", p.describe_here()));
  }
  return args;
}

conv1d_spec parse_spec(std::string_view text) { return make_spec(parse_args(text)); }

std::vector<std::int64_t> parse_dims(std::string_view text) {
  parser p(text);
  char close = '\0';
  if (p.accept('(')) close = ')';
  else if (p.accept('[')) close = ']';
  std::vector<std::int64_t> dims;
  while (!p.at_end() && p.peek() != close) {
    const std::size_t at = p.pos();
    const char c = p.peek();
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '+')
      p.fail(at, fmt::format("expected a dimension, found {}", p.describe_here()));
    const std::int64_t d = p.parse_integer();
    if (d < 0) p.fail(at, "dimensions must be non-negative");
    dims.push_back(d);
    if (!p.accept(',')) break;
  }
  if (close) p.expect(close, "to close the shape");
  if (!p.at_end()) p.fail(p.pos(), fmt::format("expected ',' between dimensions, found {}", p.describe_here()));
  if (dims.empty()) p.fail(0, "expected dimensions such as N,C,L or C,L");
  return dims;
}

}  // namespace convjit
