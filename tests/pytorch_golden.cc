// SPDX-License-Identifier: MIT
// Reader for tests/pytorch_golden.
#include "tests/pytorch_golden.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace convjit::testing {
namespace {

[[noreturn]] void corpus_broken(const std::string& why) {
  fmt::print(stderr, "pytorch_golden: {}\n", why);
  std::abort();
}

std::vector<std::int64_t> split_dims(const std::string& text) {
  std::vector<std::int64_t> dims;
  if (text == "-") return dims;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, 'x')) dims.push_back(std::stoll(part));
  return dims;
}

std::vector<float> slice(const std::vector<char>& data, long offset, long count) {
  if (offset < 0 || count == 0) return {};
  if (offset + count * 4 > long(data.size())) corpus_broken("a tensor lies outside data.bin");
  std::vector<float> v(static_cast<std::size_t>(count));
  std::memcpy(v.data(), data.data() + offset, static_cast<std::size_t>(count) * 4);
  return v;
}

std::vector<golden_case> load() {
  const std::string dir = CONVJIT_GOLDEN_DIR;
  std::ifstream bin(dir + "/data.bin", std::ios::binary);
  std::ifstream index(dir + "/index.txt");
  if (!bin || !index) corpus_broken("cannot open " + dir + "/data.bin or index.txt");
  const std::vector<char> data((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  std::vector<golden_case> cases;
  std::string line;
  while (std::getline(index, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream in(line);
    golden_case c;
    std::string input_shape, output_shape, pad_left, pad_right;
    long off[4], cnt[4];
    in >> c.name >> c.in_channels >> c.out_channels >> c.kernel_size >> c.stride >> c.padding >> c.dilation >>
        c.groups >> c.bias >> c.padding_mode >> pad_left >> pad_right >> input_shape >> output_shape >> c.error >>
        c.error_phase >> c.flags;
    for (int i = 0; i < 4; ++i) in >> off[i] >> cnt[i];
    if (!in) corpus_broken("malformed line: " + line);
    c.input_dims = split_dims(input_shape);
    c.output_dims = split_dims(output_shape);
    c.input = slice(data, off[0], cnt[0]);
    c.weight = slice(data, off[1], cnt[1]);
    c.bias_values = slice(data, off[2], cnt[2]);
    c.output = slice(data, off[3], cnt[3]);
    cases.push_back(std::move(c));
  }
  if (cases.size() != 213) corpus_broken(fmt::format("expected 213 cases, read {}", cases.size()));
  return cases;
}

}  // namespace

std::string golden_case::pytorch_spelling() const {
  const bool numeric = padding.find_first_not_of("-0123456789") == std::string::npos;
  return fmt::format(
      "nn.Conv1d(in_channels={}, out_channels={}, kernel_size={}, stride={}, padding={}, dilation={}, groups={}, "
      "bias={}, padding_mode='{}')",
      in_channels, out_channels, kernel_size, stride, numeric ? padding : "'" + padding + "'", dilation, groups,
      bias == "1" ? "True" : "False", padding_mode);
}

const std::vector<golden_case>& golden_cases() {
  static const std::vector<golden_case> cases = load();
  return cases;
}

}  // namespace convjit::testing
