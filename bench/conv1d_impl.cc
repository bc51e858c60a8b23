// SPDX-License-Identifier: MIT
// Problems, the convjit backends as benchmarked implementations, the registry.
#include "bench/conv1d_impl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <span>

#include <fmt/format.h>

#include "runtime/conv1d.h"
#include "runtime/kernel.h"
#include "runtime/reference.h"

namespace convjit::bench {

problem problem::make(std::string name, const conv1d_spec& spec, std::vector<std::int64_t> input_dims) {
  check_layer(spec);
  problem p;
  p.name = std::move(name);
  p.spec = spec;
  p.in = check_input(spec, input_dims);
  p.out = output_shape(spec, p.in);
  p.input_dims = std::move(input_dims);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto fill = [&](std::vector<float>& v, std::int64_t n) {
    v.resize(static_cast<std::size_t>(n));
    for (float& f : v) f = uniform(rng);
  };
  fill(p.src, p.in.count());
  fill(p.wei, spec.weight_count());
  fill(p.bias, spec.bias_count());
  p.expected.resize(static_cast<std::size_t>(p.out.count()));
  reference_conv1d(spec, p.in, p.src.data(), p.wei.data(), spec.bias ? p.bias.data() : nullptr, p.expected.data());
  return p;
}

double problem::tolerance() const {
  return 1e-5 + 1e-6 * double(spec.in_channels_per_group() * spec.kernel_size);
}

double problem::max_abs_error(const std::vector<float>& got) const {
  if (got.size() != expected.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - expected[i])));
  return worst;
}

double problem::flops() const { return conv1d_flops(spec, in); }

double problem::bytes() const {
  return double(sizeof(float)) * double(in.count() + spec.weight_count() + spec.bias_count() + out.count());
}

void pad_input(const problem& p, std::vector<float>* padded) {
  const std::int64_t pl = p.spec.pad_left(), length = pl + p.in.l + p.spec.pad_right();
  padded->resize(static_cast<std::size_t>(p.in.n * p.in.c * length));
  float* dst = padded->data();
  for (std::int64_t row = 0; row < p.in.n * p.in.c; ++row) {
    const float* x = p.src.data() + row * p.in.l;
    for (std::int64_t i = 0; i < length; ++i) {
      const std::int64_t from = source_position(p.spec.mode, i - pl, p.in.l);
      *dst++ = from < 0 ? 0.0f : x[from];
    }
  }
}

std::vector<double> interleaved_median_ms(const std::vector<std::function<void()>>& fns, double budget_seconds) {
  using clock = std::chrono::steady_clock;
  auto seconds_of = [](const std::function<void()>& fn, int calls) {
    const auto start = clock::now();
    for (int i = 0; i < calls; ++i) fn();
    return std::chrono::duration<double>(clock::now() - start).count();
  };
  // Per function: calls per batch (>= 5 ms a batch) and batches (those the
  // budget pays for, 5 to 200; 1 when one call exceeds the budget).
  std::vector<int> calls(fns.size()), batches(fns.size());
  std::vector<double> first(fns.size());
  for (std::size_t i = 0; i < fns.size(); ++i) {
    first[i] = seconds_of(fns[i], 1);  // also the warm-up
    calls[i] = std::max(1, int(0.005 / std::max(first[i], 1e-9)));
    batches[i] = first[i] >= budget_seconds ? 0 : std::clamp(int(budget_seconds / (first[i] * calls[i])), 5, 200);
  }
  // Round-robin: a burst of load from elsewhere on the machine slows every
  // function's batches alike instead of whichever was running.
  std::vector<std::vector<double>> per_call(fns.size());
  const int rounds = batches.empty() ? 0 : *std::max_element(batches.begin(), batches.end());
  for (int round = 0; round < rounds; ++round)
    for (std::size_t i = 0; i < fns.size(); ++i)
      if (round < batches[i]) {
        fns[i]();  // untimed: the caches as the previous function left them, warm them again (one call a batch too)
        per_call[i].push_back(seconds_of(fns[i], calls[i]) / calls[i]);
      }
  std::vector<double> ms(fns.size());
  for (std::size_t i = 0; i < fns.size(); ++i) {
    auto& v = per_call[i];
    if (v.empty()) {
      ms[i] = first[i] * 1e3;
      continue;
    }
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    ms[i] = v[v.size() / 2] * 1e3;
  }
  return ms;
}

double median_ms(const std::function<void()>& fn, double budget_seconds) {
  return interleaved_median_ms({fn}, budget_seconds).front();
}

namespace {

// A convjit backend through the public API, as a user calls it.
class convjit_impl final : public conv1d_impl {
 public:
  explicit convjit_impl(backend b) : backend_(b) {}
  std::string name() const override { return std::string(backend_name(backend_)); }
  void prepare(const problem& p, int threads) override {
    problem_ = &p;
    conv1d_options options;
    options.force_backend = backend_;
    options.threads = threads;
    try {
      layer_ = std::make_unique<conv1d>(conv1d::create(p.spec, p.wei, p.bias, options));
    } catch (const error& e) {
      throw impl_skipped(e.what());
    }
    // From a 64-byte boundary, as torch and oneDNN align their tensors: a
    // large output is stored past the caches only in whole aligned vectors.
    storage_.assign(static_cast<std::size_t>(p.out.count()) + 16, 0.0f);
    void* start = storage_.data();
    std::size_t room = storage_.size() * sizeof(float);
    dst_ = {static_cast<float*>(std::align(64, 1, start, room)), static_cast<std::size_t>(p.out.count())};
  }
  void run() override { layer_->forward(problem_->src, problem_->input_dims, dst_); }
  std::vector<float> result() override { return {dst_.begin(), dst_.end()}; }
  std::string info() const override {
    const kernel& k = layer_->compiled();
    return k.plan ? fmt::format("{}: {}", k.name, k.plan->describe()) : "naive direct loop, 1 thread";
  }
  /** Code generation of this layer's kernel (a cache hit reports the original build). */
  double creation_ms() const override {
    const kernel& k = layer_->compiled();
    return k.plan ? k.build_us / 1e3 : -1;
  }

 private:
  backend backend_;
  const problem* problem_ = nullptr;
  std::unique_ptr<conv1d> layer_;
  std::vector<float> storage_;
  std::span<float> dst_;
};

class unavailable_impl final : public conv1d_impl {
 public:
  unavailable_impl(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  std::string name() const override { return name_; }
  void prepare(const problem&, int) override { throw impl_skipped(why_); }
  void run() override {}
  std::vector<float> result() override { return {}; }

 private:
  std::string name_, why_;
};

}  // namespace

std::unique_ptr<conv1d_impl> make_unavailable(std::string name, std::string why) {
  return std::make_unique<unavailable_impl>(std::move(name), std::move(why));
}

#ifndef CONVJIT_HAVE_OPENBLAS
std::unique_ptr<conv1d_impl> make_im2col_gemm() {
  return make_unavailable("im2col+gemm", "built without OpenBLAS (apt-get install libopenblas-dev)");
}
#endif
#ifndef CONVJIT_HAVE_ONEDNN
std::unique_ptr<conv1d_impl> make_onednn() {
  return make_unavailable("onednn", "built without oneDNN (apt-get install libdnnl-dev)");
}
std::unique_ptr<conv1d_impl> make_onednn_ncw() {
  return make_unavailable("onednn-ncw", "built without oneDNN (apt-get install libdnnl-dev)");
}
#endif
#ifndef CONVJIT_HAVE_TORCH
std::unique_ptr<conv1d_impl> make_torch() {
  return make_unavailable("torch", "built without libtorch (apt-get install libtorch-dev)");
}
#endif

std::vector<std::unique_ptr<conv1d_impl>> make_all_impls() {
  std::vector<std::unique_ptr<conv1d_impl>> impls;
  for (backend b : available_backends()) impls.push_back(std::make_unique<convjit_impl>(b));
  impls.push_back(make_im2col_gemm());
  impls.push_back(make_onednn());
  impls.push_back(make_onednn_ncw());
  impls.push_back(make_torch());
  return impls;
}

}  // namespace convjit::bench
