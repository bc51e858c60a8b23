// SPDX-License-Identifier: MIT
// One Conv1d problem, and the interface every benchmarked implementation has.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "generator/spec.h"

namespace convjit::bench {

/** A layer and an input, with deterministic random data (NCL float32). */
struct problem {
  std::string name;
  conv1d_spec spec;
  std::vector<std::int64_t> input_dims;
  ncl_shape in, out;
  std::vector<float> src, wei, bias;
  std::vector<float> expected;  // the reference's output

  /** Checks the spec and input (throws convjit::error), fills the data and
   * runs the reference on it. */
  static problem make(std::string name, const conv1d_spec& spec, std::vector<std::int64_t> input_dims);
  double flops() const;  // 2 per multiply-add
  double bytes() const;  // compulsory traffic: src, weight, bias and dst once each
  /** The largest |got - expected| a correct float32 kernel may show: the
   * accumulation error grows with the fan-in; a wrong kernel is off by O(1). */
  double tolerance() const;
  /** max |got - expected|, or infinity when the sizes differ. */
  double max_abs_error(const std::vector<float>& got) const;
};

/** Thrown by prepare() when an implementation cannot run a problem here; the
 * message says why (a missing package, an unsupported padding mode, ...). */
struct impl_skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** A Conv1d implementation under test: baselines and convjit's backends. */
class conv1d_impl {
 public:
  virtual ~conv1d_impl() = default;
  virtual std::string name() const = 0;
  /** Everything done once per layer: primitive creation, weight packing,
   * layout reorders of constant data. Throws impl_skipped. */
  virtual void prepare(const problem& p, int threads) = 0;
  /** One forward pass, the timed part. */
  virtual void run() = 0;
  /** The last run's output as (N, C_out, L_out). */
  virtual std::vector<float> result() = 0;
  /** What ran, e.g. oneDNN's implementation name. */
  virtual std::string info() const { return {}; }
  /** Time prepare() spent creating kernels or primitives, in ms; < 0 if none. */
  virtual double creation_ms() const { return -1; }
};

/** Every implementation, convjit's backends first, then the baselines:
 * im2col+gemm, onednn, onednn-ncw, torch. Those built without their package
 * are present and skip with a message. */
std::vector<std::unique_ptr<conv1d_impl>> make_all_impls();

// The baselines, one file each.
std::unique_ptr<conv1d_impl> make_im2col_gemm();
std::unique_ptr<conv1d_impl> make_onednn();      // oneDNN's preferred layouts, compute only
std::unique_ptr<conv1d_impl> make_onednn_ncw();  // from and to ncw, reorders included
std::unique_ptr<conv1d_impl> make_torch();

/** Copies src into *padded as (N, C, pad_l + L + pad_r) with the spec's padding
 * mode: what F.pad does before a library convolution with padding 0. */
void pad_input(const problem& p, std::vector<float>* padded);

/** The median time of one call of fn, in ms, over repeated batches filling
 * about `budget_seconds` (one call when a single call exceeds the budget). */
double median_ms(const std::function<void()>& fn, double budget_seconds);

/** median_ms of each of fns, their batches run in turn (round-robin) so that
 * the machine's load falls on all of them alike: ratios from one run. */
std::vector<double> interleaved_median_ms(const std::vector<std::function<void()>>& fns, double budget_seconds);

/** An implementation this build or host lacks: prepare() always skips with `why`. */
std::unique_ptr<conv1d_impl> make_unavailable(std::string name, std::string why);

}  // namespace convjit::bench
