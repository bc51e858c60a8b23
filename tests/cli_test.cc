// SPDX-License-Identifier: MIT
// The convjit command line end to end: its fixed contract.
#include <gtest/gtest.h>

#include "runtime/conv1d.h"
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "generator/isa.h"
#include "generator/spec.h"
#include "tests/pytorch_golden.h"

namespace {

struct result {
  int status;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::filesystem::path scratch() {
  static const auto dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("convjit_cli_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

result convjit(const std::string& args) {
  const auto err_file = scratch() / "stderr.txt";
  const std::string command = std::string(CONVJIT_CLI) + " " + args + " 2>" + err_file.string();
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, slurp(err_file)};
}

void write_floats(const std::filesystem::path& p, const std::vector<float>& v) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
}

std::vector<float> read_floats(const std::filesystem::path& p) {
  const std::string bytes = slurp(p);
  std::vector<float> v(bytes.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string shape_arg(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (auto d : dims) {
    if (!s.empty()) s += ',';
    s += std::to_string(d);
  }
  return s;
}

TEST(cli_test, explain_prints_shapes_and_sentences) {
  const result r = convjit("explain \"Conv1d(40, 10, 3, stride=2, padding=3)\" --input 40,40,100");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("output           (40, 10, 52)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 left, 3 right"), std::string::npos);
  EXPECT_NE(r.out.find("weight           (10, 40, 3)"), std::string::npos);
  EXPECT_NE(r.out.find("parameters       1210"), std::string::npos);
  EXPECT_NE(r.out.find("FLOPs            4992000"), std::string::npos);
  EXPECT_NE(r.out.find("There are 10 filters, each of shape (40, 3)"), std::string::npos);
  EXPECT_NE(r.out.find("The first output (t = 0) reads input positions -3 to -1, all of them padding"),
            std::string::npos);
  EXPECT_NE(r.out.find("The last output (t = 51) reads input positions 99 to 101, 2 of its 3 taps are padding"),
            std::string::npos);
}

TEST(cli_test, explain_reads_print_model_form_and_unbatched_input) {
  const result r = convjit("explain \"Conv1d(80, 384, kernel_size=(3,), stride=(2,), padding=(1,))\" --input 80,3000");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("output           (384, 1500)"), std::string::npos) << r.out;
}

TEST(cli_test, explain_errors_exit_2_with_code) {
  result r = convjit("explain \"Conv1d(40, 10 3)\"");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("parse_error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column 15"), std::string::npos) << r.err;
  r = convjit("explain \"Conv1d(4, 5, 3)\" --input 2,3,10");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("channel_mismatch"), std::string::npos) << r.err;
  r = convjit("frobnicate");
  EXPECT_EQ(r.status, 2);
  r = convjit("explain \"Conv1d(1,1,1)\" --bogus 1");
  EXPECT_EQ(r.status, 2);
}

// Every golden case through `convjit run`: outputs within tolerance, errors
// with their code, exit status 2 and no output file.
TEST(cli_test, run_matches_every_golden_case) {
  int checked = 0;
  for (const auto& c : convjit::testing::golden_cases()) {
    SCOPED_TRACE(c.name);
    if (c.error_phase == "construct" || c.input_dims.size() < 2) continue;  // no tensors, or not an NCL shape
    const auto x = scratch() / "x.bin", w = scratch() / "w.bin", b = scratch() / "b.bin", y = scratch() / "y.bin";
    write_floats(x, c.input);
    write_floats(w, c.weight);
    write_floats(b, c.bias_values);
    std::filesystem::remove(y);
    std::string spec = c.pytorch_spelling();
    const result r = convjit("run \"" + spec + "\" --input-shape " + shape_arg(c.input_dims) + " --input " +
                             x.string() + " --weight " + w.string() + (c.bias == "1" ? " --bias " + b.string() : "") +
                             " --output " + y.string() + " --backend reference");
    if (c.error != "-") {
      EXPECT_EQ(r.status, 2);
      EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
      EXPECT_FALSE(std::filesystem::exists(y));
      ++checked;
      continue;
    }
    ASSERT_EQ(r.status, 0) << r.err;
    const auto got = read_floats(y);
    if (!c.has_flag("version_sensitive")) {
      std::vector<std::int64_t> dims = c.output_dims;
      EXPECT_EQ(r.out, convjit::format_dims(dims) + "\n");
      ASSERT_EQ(got.size(), c.output.size());
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_PRED2(convjit::testing::within_golden_tolerance, got[i], c.output[i]) << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 213 - 6 - 1);  // 6 construct errors; err_input_1d has a 1-D input
}

TEST(cli_test, run_refuses_bad_files_and_backends) {
  const auto x = scratch() / "x2.bin", w = scratch() / "w2.bin", y = scratch() / "y2.bin";
  write_floats(x, std::vector<float>(2 * 8, 1.0f));
  write_floats(w, std::vector<float>(2 * 2 * 3, 1.0f));
  const std::string base = "run \"Conv1d(2, 2, 3, bias=False)\" --input-shape 1,2,8 --input " + x.string() +
                           " --output " + y.string() + " --weight ";
  result r = convjit(base + w.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "(1, 2, 6)\n");
  EXPECT_EQ(read_floats(y), std::vector<float>(12, 6.0f));
  std::filesystem::remove(y);
  write_floats(w, std::vector<float>(5, 1.0f));
  r = convjit(base + w.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("buffer_size_mismatch"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(y));
  r = convjit(base + (scratch() / "missing.bin").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("io_error"), std::string::npos) << r.err;
  write_floats(w, std::vector<float>(12, 1.0f));
  r = convjit(base + w.string() + " --backend nope");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown_backend"), std::string::npos) << r.err;
  r = convjit("run \"Conv1d(2, 2, 3)\" --input-shape 1,2,8 --input " + x.string() + " --weight " + w.string() +
              " --output " + y.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("bias_mismatch"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(y));
}

bool host_generates_code() {
  return convjit::mayiuse(convjit::isa::avx2);
}

TEST(cli_test, asm_prints_the_plan_and_disassembly) {
  if (!host_generates_code()) GTEST_SKIP() << "no ISA to generate for";
  const result r = convjit("asm \"Conv1d(16, 20, 3, stride=2)\" --isa avx2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("convjit_f32_ic16oc20k3s2p0d1g1_avx2_oc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vfmadd231ps ymm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ret"), std::string::npos);
  EXPECT_EQ(convjit("asm \"Conv1d(16, 20, 3)\" --backend reference").status, 2);
  EXPECT_EQ(convjit("asm \"Conv1d(16, 20, 3)\" --isa sse9").status, 2);
}

TEST(cli_test, environment_forces_logs_and_dumps) {
  if (!host_generates_code()) GTEST_SKIP() << "no ISA to generate for";
  const auto dump = scratch() / "dump";
  std::filesystem::remove_all(dump);
  const std::string env = "CONVJIT_VERBOSE=1 CONVJIT_DUMP=" + dump.string() + " ";
  const auto model = scratch() / "model.txt";
  std::ofstream(model) << "l: Conv1d(8, 12, 5, padding=2, padding_mode='reflect') input (2, 8, 40)\n";
  const auto command = [&](const std::string& prefix) {
    const auto err_file = scratch() / "stderr.txt";
    std::system((prefix + CONVJIT_CLI + " model " + model.string() + " >/dev/null 2>" + err_file.string()).c_str());
    return slurp(err_file);
  };
  std::string log = command(env);
  EXPECT_NE(log.find("xbyak kernel convjit_f32_ic8oc12k5s1p2d1g1_reflect_"), std::string::npos) << log;
  EXPECT_NE(log.find("generated in"), std::string::npos) << log;
  EXPECT_NE(log.find("skipped aot: no ahead-of-time kernel"), std::string::npos) << log;
  ASSERT_TRUE(std::filesystem::exists(dump));
  bool dumped = false;
  for (const auto& f : std::filesystem::directory_iterator(dump))
    dumped |= f.path().extension() == ".bin" && std::filesystem::file_size(f.path()) > 0;
  EXPECT_TRUE(dumped);
  // CONVJIT_BACKEND forces a backend: the reference runs, and says so.
  log = command("CONVJIT_VERBOSE=1 CONVJIT_BACKEND=reference ");
  EXPECT_NE(log.find("reference kernel reference"), std::string::npos) << log;
  log = command("CONVJIT_BACKEND=aot ");  // the CLI has no ahead-of-time kernels
  EXPECT_NE(log.find("backend 'aot' cannot run"), std::string::npos) << log;
  const auto built = convjit::available_backends();
  if (std::find(built.begin(), built.end(), convjit::backend::llvm) == built.end()) return;
  log = command(env + "CONVJIT_BACKEND=llvm ");
  EXPECT_NE(log.find("llvm kernel convjit_f32_ic8oc12k5s1p2d1g1_reflect_"), std::string::npos) << log;
  for (const char* suffix : {".ll", ".o"}) {
    bool found = false;
    for (const auto& f : std::filesystem::directory_iterator(dump))
      found |= f.path().extension() == suffix && std::filesystem::file_size(f.path()) > 0;
    EXPECT_TRUE(found) << "no " << suffix << " dump";
  }
}

// `convjit gen`: the files a build compiles, rewritten only when changed, and
// clear errors for a bad ISA, namespace, model or output directory.
TEST(cli_test, gen_writes_kernels_and_refuses_bad_input) {
  const auto dir = scratch() / "gen";
  const std::string model = std::string(CONVJIT_MODELS_DIR) + "/seed_examples.txt";
  result r = convjit("gen " + model + " --out " + dir.string() + " --isa avx2,scalar");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("5 layers, 13 files"), std::string::npos) << r.out;
  for (const char* file : {"kernels_avx2.cc", "kernels_scalar.cc", "registry.cc",
                           "convjit_f32_ic40oc10k3s2p3d1g1_avx2_oc5x2.cc"})
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << file;
  EXPECT_FALSE(std::filesystem::exists(dir / "kernels_avx512.cc"));
  r = convjit("gen " + model + " --out " + dir.string() + " --isa avx2,scalar");
  EXPECT_NE(r.out.find("(0 changed)"), std::string::npos) << r.out;
  EXPECT_EQ(convjit("gen " + model + " --out " + dir.string() + " --isa sse9").status, 2);
  r = convjit("gen " + model + " --out " + dir.string() + " --namespace 'a-b'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << r.err;
  EXPECT_EQ(convjit("gen /nonexistent/model.txt --out " + dir.string()).status, 2);
  EXPECT_EQ(convjit("gen " + model + " --out /proc/convjit").status, 2);
}

TEST(cli_test, model_explains_and_runs_the_seed_examples) {
  const result r = convjit(std::string("model ") + CONVJIT_MODELS_DIR + "/seed_examples.txt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("5 layers"), std::string::npos);
  EXPECT_NE(r.out.find("== seed.stride2 (line 4) =="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output (239, 5, 1)"), std::string::npos) << r.out;
}

}  // namespace
