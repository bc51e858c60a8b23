// SPDX-License-Identifier: MIT
// Runs every layer of the consumer's model: each must dispatch to the kernels
// compiled into this program (aot) and match the reference backend.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "generator/model.h"
#include "runtime/conv1d.h"

int main() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  auto random = [&](std::int64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& f : v) f = value(rng);
    return v;
  };
  int failures = 0;
  for (const convjit::model_layer& l : convjit::load_model(CONSUMER_MODEL)) {
    const auto w = random(l.spec.weight_count()), b = random(l.spec.bias_count()), x = random([&] {
      std::int64_t n = 1;
      for (auto d : l.input_dims) n *= d;
      return n;
    }());
    const auto layer = convjit::conv1d::create(l.spec, w, b);
    convjit::conv1d_options reference;
    reference.force_backend = convjit::backend::reference;
    const auto oracle = convjit::conv1d::create(l.spec, w, b, reference);
    std::vector<float> y(static_cast<std::size_t>(layer.output_count(l.input_dims))), expected(y.size());
    layer.forward(x, l.input_dims, y);
    oracle.forward(x, l.input_dims, expected);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, double(std::fabs(y[i] - expected[i])));
    const bool ok = layer.selected_backend() == convjit::backend::aot && worst < 1e-3;
    std::printf("%s %s: %s kernel %s, max error %.2g\n", ok ? "ok" : "FAILED", l.name.c_str(),
                std::string(convjit::backend_name(layer.selected_backend())).c_str(), layer.kernel_name().c_str(),
                worst);
    failures += !ok;
  }
  return failures == 0 ? 0 : 1;
}
