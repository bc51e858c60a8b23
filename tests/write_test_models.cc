// SPDX-License-Identifier: MIT
// Writes the model files whose layers the tests compile ahead of time:
//   golden_layers.txt  every layer of the PyTorch golden corpus that can run
//   sweep_layers.txt   kAotSweepLayers random layers (tests/random_layers.h), with inputs,
//                      a few dot tiles that read their columns in place,
//                      two outputs stored past the caches, and depthwise rows
//                      padded in place
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
  // Dot tiles that read their columns in place, the last vector masked
  // (sweep_test's dot_tile_test runs the same layers through the JIT backends).
  sweep += "sweep.dot_in_place_k49: Conv1d(5, 5, 49, groups=5, bias=False) input (7, 5, 49)\n"
           "sweep.dot_in_place_pointwise: Conv1d(100, 100, 1) input (9, 100, 1)\n"
           "sweep.dot_in_place_rows: Conv1d(2, 2, 37, stride=3, groups=2) input (1, 2, 43)\n";
  // Outputs beyond the last-level cache, stored past it (sweep_test's
  // stream_test runs the same layers through the JIT backends).
  sweep += "sweep.streamed: Conv1d(2, 16, 7, padding=3) input (1, 2, 525328)\n"
           "sweep.streamed_strided: Conv1d(1, 64, 10, stride=5, bias=False) input (1, 1, 656005)\n";
  // Depthwise rows whose first and last calls pad in place, in every mode
  // (sweep_test's sliding_tile_test runs such layers through the JIT backends).
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    sweep += fmt::format("sweep.edge_{0}: Conv1d(6, 6, 15, padding=7, groups=6, padding_mode='{0}') input (2, 6, 300)\n", mode);
  write(dir + "/sweep_layers.txt", sweep);
  return 0;
}
