// SPDX-License-Identifier: MIT
// Model files: layer lists and print(model) output.
#include <gtest/gtest.h>

#include "generator/error.h"
#include "generator/model.h"

namespace convjit {
namespace {

using dims = std::vector<std::int64_t>;

TEST(model_test, reads_named_layers_with_inputs) {
  const auto layers = parse_model(
      "# comment\n"
      "enc.conv1: Conv1d(80, 512, 3, padding=1) input (1, 80, 3000)\n"
      "\n"
      "enc.conv2: nn.Conv1d(512, 512, 3, stride=2, padding=1)   # chained\n"
      "Conv1d(7, 7, 1)\n");
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].name, "enc.conv1");
  EXPECT_EQ(layers[0].input_dims, (dims{1, 80, 3000}));
  EXPECT_EQ(layers[1].name, "enc.conv2");
  EXPECT_EQ(layers[1].input_dims, (dims{1, 512, 3000}));  // the previous layer's output
  EXPECT_EQ(layers[1].line, 4);
  EXPECT_EQ(layers[2].name, "layer2");
  EXPECT_TRUE(layers[2].input_dims.empty());  // 7 channels do not chain from 512
}

TEST(model_test, reads_print_model_with_nesting) {
  const char* printed = R"(Wav2Vec2FeatureEncoder(
  (conv_layers): ModuleList(
    (0): Wav2Vec2GroupNormConvLayer(
      (conv): Conv1d(1, 512, kernel_size=(10,), stride=(5,), bias=False)
      (activation): GELUActivation()
      (layer_norm): GroupNorm(512, 512, eps=1e-05, affine=True)
    )
    (1-2): 2 x Wav2Vec2NoLayerNormConvLayer(
      (conv): Conv1d(512, 512, kernel_size=(3,), stride=(2,), bias=False)
      (activation): GELUActivation()
    )
  )
  (head): Sequential(
    (0): Conv1d(512, 256, kernel_size=(1,), stride=(1,))
    (1-3): 3 x Conv1d(256, 256, kernel_size=(3,), stride=(1,), padding=same, padding_mode=reflect)
  )
)
)";
  const auto layers = parse_model(printed);
  ASSERT_EQ(layers.size(), 7u);
  EXPECT_EQ(layers[0].name, "conv_layers.0.conv");
  EXPECT_EQ(layers[0].spec.stride, 5);
  EXPECT_EQ(layers[1].name, "conv_layers.1.conv");  // "(1-2): 2 x Block(" repeats the block
  EXPECT_EQ(layers[2].name, "conv_layers.2.conv");
  EXPECT_EQ(layers[2].spec.in_channels, 512);
  EXPECT_EQ(layers[3].name, "head.0");
  EXPECT_EQ(layers[4].name, "head.1");
  EXPECT_EQ(layers[6].name, "head.3");
  EXPECT_EQ(layers[6].spec.mode, padding_mode::reflect);
  EXPECT_EQ(layers[6].spec.padding_kind, padding_kind::same);
}

// A repeated block with two convs repeats them in module order, nested
// repeats multiply, and the chain of inputs follows that order.
TEST(model_test, repeats_blocks_in_module_order) {
  const char* printed = R"(input (2, 8, 100)
Net(
  (stages): ModuleList(
    (0-1): 2 x Stage(
      (blocks): Sequential(
        (0-1): 2 x Block(
          (conv_a): Conv1d(8, 8, kernel_size=(3,), stride=(1,), padding=(1,))
          (norm): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
          (conv_b): Conv1d(8, 8, kernel_size=(1,), stride=(1,))
        )
      )
    )
  )
  (out): Conv1d(8, 4, kernel_size=(2,), stride=(2,))
)
)";
  const auto layers = parse_model(printed);
  ASSERT_EQ(layers.size(), 9u);
  const char* names[] = {"stages.0.blocks.0.conv_a", "stages.0.blocks.0.conv_b", "stages.0.blocks.1.conv_a",
                         "stages.0.blocks.1.conv_b", "stages.1.blocks.0.conv_a", "stages.1.blocks.0.conv_b",
                         "stages.1.blocks.1.conv_a", "stages.1.blocks.1.conv_b", "out"};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    EXPECT_EQ(layers[i].name, names[i]);
    EXPECT_EQ(layers[i].input_dims, (std::vector<std::int64_t>{2, 8, 100})) << names[i];
  }
  EXPECT_EQ(layers[8].spec.stride, 2);
}

TEST(model_test, errors_name_the_line) {
  try {
    parse_model("a: Conv1d(1, 1, 3)\nb: Conv1d(1, 1, 3, stride=)\n", "m.txt");
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::parse_error);
    EXPECT_NE(std::string(e.what()).find("m.txt:2: "), std::string::npos) << e.what();
  }
  try {
    parse_model("Conv1d(2, 2, 3, groups=0)\n", "m.txt");
    FAIL() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::groups_nonpositive);
  }
  EXPECT_THROW(parse_model("Conv1d(1, 1, 3) trailing\n"), error);
  EXPECT_THROW(parse_model("x Conv1d(1, 1, 3)\n"), error);
  EXPECT_THROW(load_model("/nonexistent/model.txt"), error);
}

// Every shipped model: its layer count, and every layer has an input to run on.
TEST(model_test, shipped_models_parse) {
  const std::pair<const char*, std::size_t> models[] = {
      {"seed_examples.txt", 5},  {"whisper_base_encoder.txt", 2}, {"wav2vec2_feature_encoder.txt", 7},
      {"wavenet_tcn_stack.txt", 26}, {"conformer_conv_module.txt", 3}};
  for (const auto& [file, count] : models) {
    const auto layers = load_model(std::string(CONVJIT_MODELS_DIR) + "/" + file);
    ASSERT_EQ(layers.size(), count) << file;
    for (const auto& l : layers) EXPECT_FALSE(l.input_dims.empty()) << file << ": " << l.name;
  }
  const auto wav2vec2 = load_model(std::string(CONVJIT_MODELS_DIR) + "/wav2vec2_feature_encoder.txt");
  EXPECT_EQ(wav2vec2[4].name, "conv_layers.4.conv");
  EXPECT_EQ(wav2vec2[6].input_dims, (std::vector<std::int64_t>{1, 512, 99}));  // 16000 samples chained through 6 convs
}

}  // namespace
}  // namespace convjit
