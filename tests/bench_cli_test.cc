// SPDX-License-Identifier: MIT
// `convjit bench`: its fixed CSV contract, every baseline present and correct,
// errors, the plot. Timing values are never asserted, only their presence.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

struct result {
  int status;
  std::string out;
};

result convjit(const std::string& args) {
  FILE* pipe = popen((std::string(CONVJIT_CLI) + " " + args + " 2>&1").c_str(), "r");
  std::string out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(line);
  std::string part;
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

const std::string kSmoke = std::string(CONVJIT_SOURCE_DIR) + "/bench/shapes/smoke.txt";

TEST(bench_cli_test, suite_csv_has_every_impl_on_every_shape) {
  const result r = convjit("bench --suite " + kSmoke + " --csv --budget 0.01");
  ASSERT_EQ(r.status, 0) << r.out;
  std::stringstream in(r.out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "shape,impl,ms,gflops,pct_peak,x_vs_torch,x_vs_onednn_ncw,max_abs_err");
  std::map<std::string, std::set<std::string>> impls_by_shape;
  while (std::getline(in, line)) {
    const auto f = split(line, ',');
    ASSERT_EQ(f.size(), 8u) << line;
    impls_by_shape[f[0]].insert(f[1]);
    EXPECT_GT(std::stod(f[2]), 0) << line;             // ms
    EXPECT_GT(std::stod(f[3]), 0) << line;             // gflops
    EXPECT_GT(std::stod(f[5]), 0) << line;             // torch ran, so the ratio exists
    EXPECT_GT(std::stod(f[6]), 0) << line;             // so did onednn-ncw
    EXPECT_LT(std::stod(f[7]), 1e-3) << line;          // checked against the reference
    if (f[1] == "torch") {
      EXPECT_EQ(std::stod(f[5]), 1) << line;
    }
    if (f[1] == "onednn-ncw") {
      EXPECT_EQ(std::stod(f[6]), 1) << line;
    }
  }
  const std::set<std::string> all = {"reference", "im2col+gemm", "onednn", "onednn-ncw", "torch"};
  ASSERT_EQ(impls_by_shape.size(), 3u);
  for (const auto& [shape, impls] : impls_by_shape)
    for (const auto& impl : all) EXPECT_TRUE(impls.count(impl)) << shape << " lacks " << impl;
}

TEST(bench_cli_test, single_layer_table_and_threads) {
  // A suite layer (seed.k3): the module carries its ahead-of-time kernel.
  const result r = convjit("bench \"Conv1d(5, 5, 3)\" --input 2,5,49 --threads 2 --budget 0.01");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("peak (measured): FMA AVX-512"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("This run: 2 threads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("onednn-ncw"), std::string::npos);
  EXPECT_NE(r.out.find("  aot  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("geomean speed-up"), std::string::npos);
  EXPECT_EQ(r.out.find("skipped:"), std::string::npos) << r.out;  // no implementation skipped
  EXPECT_NE(r.out.find("(0 skipped, 0 wrong)"), std::string::npos) << r.out;
}

TEST(bench_cli_test, bad_input_exits_2) {
  EXPECT_EQ(convjit("bench \"Conv1d(8, 8, 3\" --input 2,8,64").status, 2);
  EXPECT_EQ(convjit("bench \"Conv1d(8, 8, 3)\" --input 2,7,64").status, 2);
  EXPECT_EQ(convjit("bench \"Conv1d(8, 8, 3)\"").status, 2);
  EXPECT_EQ(convjit("bench --suite /nonexistent.txt").status, 2);
  EXPECT_EQ(convjit("bench \"Conv1d(8, 8, 3)\" --input 2,8,64 --threads 0").status, 2);
}

TEST(bench_cli_test, plot_writes_a_png) {
  const auto png = std::filesystem::temp_directory_path() / ("convjit_bench_test_" + std::to_string(getpid()) + ".png");
  const result r = convjit("bench --suite " + kSmoke + " --budget 0.01 --impl reference,torch --plot " + png.string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(png, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  std::filesystem::remove(png);
}

}  // namespace
