// SPDX-License-Identifier: MIT
// Baseline: libtorch's nn::Conv1d module, what a PyTorch user runs today.
#include <torch/torch.h>

#include "bench/conv1d_impl.h"

namespace convjit::bench {
namespace {

torch::nn::detail::conv_padding_mode_t torch_mode(padding_mode mode) {
  switch (mode) {
    case padding_mode::reflect: return torch::kReflect;
    case padding_mode::replicate: return torch::kReplicate;
    case padding_mode::circular: return torch::kCircular;
    case padding_mode::zeros: break;
  }
  return torch::kZeros;
}

class torch_conv final : public conv1d_impl {
 public:
  std::string name() const override { return "torch"; }

  void prepare(const problem& p, int threads) override {
    torch::set_num_threads(threads);
    const conv1d_spec& s = p.spec;
    auto options = torch::nn::Conv1dOptions(s.in_channels, s.out_channels, s.kernel_size)
                       .stride(s.stride)
                       .dilation(s.dilation)
                       .groups(s.groups)
                       .bias(s.bias)
                       .padding_mode(torch_mode(s.mode));
    if (s.padding_kind == padding_kind::same) options.padding(torch::kSame);
    else options.padding(s.padding);
    module_ = torch::nn::Conv1d(options);
    torch::NoGradGuard no_grad;
    module_->weight.copy_(torch::from_blob(const_cast<float*>(p.wei.data()),
                                           {s.out_channels, s.in_channels_per_group(), s.kernel_size}));
    if (s.bias) module_->bias.copy_(torch::from_blob(const_cast<float*>(p.bias.data()), {s.out_channels}));
    // Always batched: libtorch 1.13 cannot circular-pad a 2-D input, and an
    // unbatched input is defined as the batch of one.
    input_ = torch::from_blob(const_cast<float*>(p.src.data()), {p.in.n, p.in.c, p.in.l});
  }

  void run() override {
    torch::NoGradGuard no_grad;
    output_ = module_->forward(input_);
  }

  std::vector<float> result() override {
    const torch::Tensor y = output_.contiguous();
    return {y.data_ptr<float>(), y.data_ptr<float>() + y.numel()};
  }

  std::string info() const override { return "torch::nn::Conv1d forward, no_grad"; }

 private:
  torch::nn::Conv1d module_{nullptr};
  torch::Tensor input_, output_;
};

}  // namespace

std::unique_ptr<conv1d_impl> make_torch() { return std::make_unique<torch_conv>(); }

}  // namespace convjit::bench
