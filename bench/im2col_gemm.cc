// SPDX-License-Identifier: MIT
// Baseline: im2col then OpenBLAS sgemm, per batch element and group.
#include <cblas.h>

#include "bench/conv1d_impl.h"

namespace convjit::bench {
namespace {

class im2col_gemm final : public conv1d_impl {
 public:
  std::string name() const override { return "im2col+gemm"; }

  void prepare(const problem& p, int threads) override {
    p_ = &p;
    openblas_set_num_threads(threads);
    const conv1d_spec& s = p.spec;
    // A 1x1, stride-1, unpadded layer needs no im2col: the input is the matrix.
    direct_ = s.kernel_size == 1 && s.stride == 1 && s.pad_left() == 0 && s.pad_right() == 0;
    if (!direct_) col_.assign(static_cast<std::size_t>(s.in_channels_per_group() * s.kernel_size * p.out.l), 0.0f);
    dst_.assign(static_cast<std::size_t>(p.out.count()), 0.0f);
  }

  void run() override {
    const problem& p = *p_;
    const conv1d_spec& s = p.spec;
    const std::int64_t cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
    const std::int64_t rows = cin_g * s.kernel_size, lout = p.out.l;
    for (std::int64_t n = 0; n < p.in.n; ++n) {
      for (std::int64_t g = 0; g < s.groups; ++g) {
        const float* x = p.src.data() + (n * p.in.c + g * cin_g) * p.in.l;
        float* y = dst_.data() + (n * p.out.c + g * cout_g) * lout;
        if (!direct_) {
          for (std::int64_t c = 0; c < cin_g; ++c)
            for (std::int64_t k = 0; k < s.kernel_size; ++k) {
              float* row = col_.data() + (c * s.kernel_size + k) * lout;
              for (std::int64_t t = 0; t < lout; ++t) {
                const std::int64_t i = source_position(s.mode, t * s.stride + k * s.dilation - s.pad_left(), p.in.l);
                row[t] = i < 0 ? 0.0f : x[c * p.in.l + i];
              }
            }
        }
        for (std::int64_t o = 0; o < cout_g; ++o)
          std::fill(y + o * lout, y + (o + 1) * lout, s.bias ? p.bias[static_cast<std::size_t>(g * cout_g + o)] : 0.0f);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(cout_g), int(lout), int(rows), 1.0f,
                    p.wei.data() + g * cout_g * rows, int(rows), direct_ ? x : col_.data(), int(lout), 1.0f, y,
                    int(lout));
      }
    }
  }

  std::vector<float> result() override { return dst_; }
  std::string info() const override { return direct_ ? "sgemm on the input (1x1, no im2col)" : "OpenBLAS sgemm"; }

 private:
  const problem* p_ = nullptr;
  bool direct_ = false;
  std::vector<float> col_, dst_;
};

}  // namespace

std::unique_ptr<conv1d_impl> make_im2col_gemm() { return std::make_unique<im2col_gemm>(); }

}  // namespace convjit::bench
