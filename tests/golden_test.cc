// SPDX-License-Identifier: MIT
// Every PyTorch golden case through the text parser and every backend.
#include <gtest/gtest.h>

#include "runtime/conv1d.h"
#include "tests/backend_configs.h"
#include "tests/pytorch_golden.h"

namespace convjit {
namespace {

using testing::backend_config;
using testing::golden_case;
using testing::golden_cases;

struct golden_param {
  std::size_t index;
  backend_config config;
};

std::vector<golden_param> all_params() {
  std::vector<golden_param> params;
  for (const backend_config& config : testing::all_backend_configs())
    for (std::size_t i = 0; i < golden_cases().size(); ++i) params.push_back({i, config});
  return params;
}

void PrintTo(const golden_param& p, std::ostream* os) {
  *os << golden_cases()[p.index].pytorch_spelling() << " on " << p.config.name();
}

class golden_test : public ::testing::TestWithParam<golden_param> {};

// The error code convjit reports for a case, or "-" when it computes an output
// (written to *out). The spec goes through the PyTorch spelling.
std::string run_case(const golden_case& c, const backend_config& config, std::vector<std::int64_t>* out_dims,
                     std::vector<float>* out) {
  try {
    const conv1d_spec spec = parse_spec(c.pytorch_spelling());
    const auto layer = conv1d::create(spec, c.weight, c.bias_values, config.options());
    *out_dims = layer.output_dims(c.input_dims);
    out->assign(static_cast<std::size_t>(layer.output_count(c.input_dims)), 0.0f);
    layer.forward(c.input, c.input_dims, *out);
    return "-";
  } catch (const error& e) {
    return std::string(errc_name(e.code()));
  }
}

TEST_P(golden_test, matches_pytorch) {
  const golden_case& c = golden_cases()[GetParam().index];
  if (const std::string why = GetParam().config.missing(); !why.empty()) GTEST_SKIP() << why;
  SCOPED_TRACE(c.pytorch_spelling());
  std::vector<std::int64_t> dims;
  std::vector<float> out;
  const std::string code = run_case(c, GetParam().config, &dims, &out);
  ASSERT_EQ(code, c.error);
  if (c.error != "-") return;
  if (c.has_flag("version_sensitive") && dims != c.output_dims) {
    // in_channels = 0: PyTorch 1.13 returns (N, 0, L_out); convjit returns the
    // natural (N, C_out, L_out), which is the bias broadcast.
    ASSERT_EQ(dims.size(), c.output_dims.size());
    ASSERT_EQ(dims.back(), c.output_dims.back());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::size_t channel = (i / static_cast<std::size_t>(dims.back())) % c.bias_values.size();
      ASSERT_EQ(out[i], c.bias_values[channel]) << "at " << i;
    }
    return;
  }
  ASSERT_EQ(dims, c.output_dims);
  ASSERT_EQ(out.size(), c.output.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    ASSERT_PRED2(testing::within_golden_tolerance, out[i], c.output[i]) << "at element " << i;
}

TEST(golden_corpus, has_every_case) {
  EXPECT_EQ(golden_cases().size(), 213u);
  std::size_t errors = 0, unbatched = 0;
  for (const auto& c : golden_cases()) {
    errors += c.error != "-";
    unbatched += c.has_flag("unbatched");
  }
  EXPECT_EQ(errors, 15u);
  EXPECT_EQ(unbatched, 11u);
}

INSTANTIATE_TEST_SUITE_P(pytorch, golden_test, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<golden_param>& param) {
                           return golden_cases()[param.param.index].name + "__" + param.param.config.name();
                         });

}  // namespace
}  // namespace convjit
