// SPDX-License-Identifier: MIT
// Writes the model files whose layers the tests compile ahead of time:
//   golden_layers.txt  every layer of the PyTorch golden corpus that can run
//   sweep_layers.txt   kAotSweepLayers random layers (tests/random_layers.h), with inputs
// Usage: write_test_models OUT_DIR
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "generator/error.h"
#include "generator/spec.h"
#include "tests/pytorch_golden.h"
#include "tests/random_layers.h"

namespace {

constexpr int kAotSweepLayers = 240;

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) {
    fmt::print(stderr, "write_test_models: cannot write {}\n", path);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace convjit;
  if (argc != 2) {
    fmt::print(stderr, "usage: write_test_models OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::string golden = "# The PyTorch golden corpus's layers (tests/pytorch_golden), for AOT kernels.\n";
  for (const auto& c : testing::golden_cases()) {
    try {
      const conv1d_spec spec = parse_spec(c.pytorch_spelling());
      check_layer(spec);
      golden += fmt::format("golden.{}: {}\n", c.name, to_string(spec));
    } catch (const error&) {
      // A layer PyTorch cannot run on any input: nothing to compile.
    }
  }
  write(dir + "/golden_layers.txt", golden);

  std::string sweep = "# Random layers (tests/random_layers.h) for the AOT sweep.\n";
  std::mt19937 rng(1121u);
  for (int i = 0; i < kAotSweepLayers; ++i) {
    const auto c = testing::random_case(rng);
    sweep += fmt::format("sweep.{}: {} input {}\n", i, to_string(c.spec), format_dims(c.dims));
  }
  write(dir + "/sweep_layers.txt", sweep);
  return 0;
}
