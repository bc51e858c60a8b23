// SPDX-License-Identifier: MIT
// Baselines: oneDNN convolution forward_inference, in its preferred layouts
// (compute only) and from and to plain ncw (the fastest of four ways of asking).
#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>

#include "bench/conv1d_impl.h"

namespace convjit::bench {
namespace {

using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One way of asking oneDNN for the layer, with everything it needs to run.
struct onednn_way {
  std::string label;
  std::string impl;
  double creation_ms = 0;
  dnnl::convolution_forward conv;
  dnnl::memory src_user, dst_user, src_conv, wei_conv, bias, dst_conv;
  std::optional<dnnl::reorder> src_reorder, dst_reorder;
};

// two_d: describe the layer as 2-D with height 1; any: let oneDNN choose the
// layouts (format any) and reorder activations from and to ncw.
onednn_way make_way(const problem& p, const float* src, std::int64_t src_length, bool two_d, bool any) {
  const conv1d_spec& s = p.spec;
  const bool padded_by_copy = s.mode != padding_mode::zeros;
  const std::int64_t g = s.groups, cin_g = s.in_channels_per_group(), cout_g = s.out_channels_per_group();
  auto spatial = [&](std::int64_t w, std::int64_t h) { return two_d ? dims{h, w} : dims{w}; };
  dims src_dims = {p.in.n, p.in.c}, dst_dims = {p.out.n, p.out.c}, wei_dims;
  for (auto d : spatial(src_length, 1)) src_dims.push_back(d);
  for (auto d : spatial(p.out.l, 1)) dst_dims.push_back(d);
  if (g == 1) wei_dims = {s.out_channels, s.in_channels};
  else wei_dims = {g, cout_g, cin_g};
  for (auto d : spatial(s.kernel_size, 1)) wei_dims.push_back(d);
  const tag act = two_d ? tag::nchw : tag::ncw;
  const tag wei_plain = g == 1 ? (two_d ? tag::oihw : tag::oiw) : (two_d ? tag::goihw : tag::goiw);
  const dnnl::memory::desc src_md(src_dims, dnnl::memory::data_type::f32, any ? tag::any : act);
  const dnnl::memory::desc dst_md(dst_dims, dnnl::memory::data_type::f32, any ? tag::any : act);
  const dnnl::memory::desc wei_md(wei_dims, dnnl::memory::data_type::f32, any ? tag::any : wei_plain);
  const dnnl::memory::desc bias_md({s.out_channels}, dnnl::memory::data_type::f32, tag::x);
  const std::int64_t pl = padded_by_copy ? 0 : s.pad_left(), pr = padded_by_copy ? 0 : s.pad_right();

  onednn_way way;
  way.label = fmt::format("{}{}", two_d ? "2-D h=1 " : "", any ? "any+reorders" : (two_d ? "nchw" : "ncw"));
  const auto start = std::chrono::steady_clock::now();
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, wei_md,
      s.bias ? bias_md : dnnl::memory::desc(), dst_md, spatial(s.stride, 1), spatial(s.dilation - 1, 0),
      spatial(pl, 0), spatial(pr, 0));
  const dnnl::convolution_forward::primitive_desc pd(desc, cpu_engine());
  way.conv = dnnl::convolution_forward(pd);
  way.creation_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  way.impl = pd.impl_info_str();

  auto& engine = cpu_engine();
  dnnl::stream stream(engine);
  way.src_user = dnnl::memory({src_dims, dnnl::memory::data_type::f32, act}, engine, const_cast<float*>(src));
  way.dst_user = dnnl::memory({dst_dims, dnnl::memory::data_type::f32, act}, engine);
  way.src_conv = pd.src_desc() == way.src_user.get_desc() ? way.src_user : dnnl::memory(pd.src_desc(), engine);
  way.dst_conv = pd.dst_desc() == way.dst_user.get_desc() ? way.dst_user : dnnl::memory(pd.dst_desc(), engine);
  if (way.src_conv != way.src_user) way.src_reorder = dnnl::reorder(way.src_user, way.src_conv);
  if (way.dst_conv != way.dst_user) way.dst_reorder = dnnl::reorder(way.dst_conv, way.dst_user);
  // Weights and bias are constant: reordered once, as any inference runtime does.
  dnnl::memory wei_user({wei_dims, dnnl::memory::data_type::f32, wei_plain}, engine, const_cast<float*>(p.wei.data()));
  way.wei_conv = wei_user;
  if (pd.weights_desc() != wei_user.get_desc()) {
    way.wei_conv = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(wei_user, way.wei_conv).execute(stream, wei_user, way.wei_conv);
  }
  if (s.bias) way.bias = dnnl::memory(bias_md, engine, const_cast<float*>(p.bias.data()));
  stream.wait();
  return way;
}

class onednn_conv final : public conv1d_impl {
 public:
  explicit onednn_conv(bool from_ncw) : from_ncw_(from_ncw) {}
  std::string name() const override { return from_ncw_ ? "onednn-ncw" : "onednn"; }

  void prepare(const problem& p, int threads) override {
    if (p.in.count() == 0 || p.out.count() == 0) throw impl_skipped("oneDNN does not take empty tensors");
    omp_set_num_threads(threads);
    p_ = &p;
    const float* src = p.src.data();
    std::int64_t length = p.in.l;
    if (p.spec.mode != padding_mode::zeros) {  // oneDNN pads with zeros only: pad by copy, as F.pad does
      pad_input(p, &padded_);
      src = padded_.data();
      length = p.spec.pad_left() + p.in.l + p.spec.pad_right();
    }
    stream_.emplace(cpu_engine());
    try {
      if (!from_ncw_) {
        way_ = make_way(p, src, length, false, true);
        if (way_.src_reorder) {  // compute only: the input is reordered once, here
          way_.src_reorder->execute(*stream_, way_.src_user, way_.src_conv);
          stream_->wait();
        }
        return;
      }
      // onednn-ncw: the fastest way of asking, each timed here.
      double best = 0;
      for (auto [two_d, any] : {std::pair{false, false}, {false, true}, {true, false}, {true, true}}) {
        way_ = make_way(p, src, length, two_d, any);
        const double ms = median_ms([&] { run(); }, 0.1);
        if (best == 0 || ms < best) {
          best = ms;
          best_way_ = std::move(way_);
        }
      }
      way_ = std::move(best_way_);
    } catch (const dnnl::error& e) {
      throw impl_skipped(fmt::format("oneDNN refused the layer: {}", e.what()));
    }
  }

  void run() override {
    if (from_ncw_ && !padded_.empty()) pad_input(*p_, &padded_);
    if (from_ncw_ && way_.src_reorder) way_.src_reorder->execute(*stream_, way_.src_user, way_.src_conv);
    way_.conv.execute(*stream_, {{DNNL_ARG_SRC, way_.src_conv},
                                 {DNNL_ARG_WEIGHTS, way_.wei_conv},
                                 {DNNL_ARG_BIAS, way_.bias},
                                 {DNNL_ARG_DST, way_.dst_conv}});
    if (from_ncw_ && way_.dst_reorder) way_.dst_reorder->execute(*stream_, way_.dst_conv, way_.dst_user);
    stream_->wait();
  }

  std::vector<float> result() override {
    if (!from_ncw_ && way_.dst_reorder) {  // outside the timed part
      way_.dst_reorder->execute(*stream_, way_.dst_conv, way_.dst_user);
      stream_->wait();
    }
    const float* y = static_cast<const float*>(way_.dst_user.get_data_handle());
    return {y, y + p_->out.count()};
  }

  std::string info() const override {
    return fmt::format("{} ({}){}", way_.impl, way_.label,
                       p_->spec.mode != padding_mode::zeros ? ", padded by copy" : "");
  }
  double creation_ms() const override { return way_.creation_ms; }

 private:
  bool from_ncw_;
  const problem* p_ = nullptr;
  std::vector<float> padded_;
  std::optional<dnnl::stream> stream_;
  onednn_way way_, best_way_;
};

}  // namespace

std::unique_ptr<conv1d_impl> make_onednn() { return std::make_unique<onednn_conv>(false); }
std::unique_ptr<conv1d_impl> make_onednn_ncw() { return std::make_unique<onednn_conv>(true); }

}  // namespace convjit::bench
