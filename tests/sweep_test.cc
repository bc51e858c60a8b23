// SPDX-License-Identifier: MIT
// Randomized sweeps through every code-generating backend at every ISA, each
// against the reference and the backends against each other: channels 1..300,
// kernel 1..64, stride 1..8, dilation 1..32, dense, grouped and depthwise,
// every padding mode, output lengths down to 1, batched and not
// (tests/random_layers.h).
//  - JIT backends (Xbyak, LLVM): 8 shards x 270 layers made here (2,160 in all).
//  - AOT: the layers of sweep_layers.txt, which write_test_models made with
//    the same generator at build time and convjit_add_model compiled in.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>

#include "generator/model.h"
#include "generator/plan.h"
#include "runtime/conv1d.h"
#include "runtime/driver.h"
#include "runtime/kernel.h"
#include "runtime/reference.h"
#include "runtime/xbyak_jit.h"
#include "tests/backend_configs.h"
#include "tests/random_layers.h"

namespace convjit {
namespace {

using testing::backend_config;

constexpr int kShards = 8, kCasesPerShard = 270;

std::vector<backend_config> configs_of(std::initializer_list<backend> backends) {
  std::vector<backend_config> configs;
  for (const auto& config : testing::all_backend_configs())
    if (std::find(backends.begin(), backends.end(), config.b) != backends.end() && config.missing().empty())
      configs.push_back(config);
  return configs;
}

// `count` floats of `storage` (count + 16 long) from a 64-byte boundary, as
// torch's tensors are aligned, so a large output may be streamed (streams_output).
std::span<float> aligned_span(std::vector<float>& storage, std::size_t count) {
  void* start = storage.data();
  std::size_t room = storage.size() * sizeof(float);
  return {static_cast<float*>(std::align(64, count * sizeof(float), start, room)), count};
}

// Runs one layer through `configs` on random data: each must pick its own
// backend and match the reference; backends at the same ISA walk the same
// plan, so they must agree bit for bit; different ISAs agree within rounding.
void check_layer_on(const conv1d_spec& s, const std::vector<std::int64_t>& dims, std::mt19937& rng,
                    const std::vector<backend_config>& configs, int threads = 0) {
  SCOPED_TRACE(to_string(s) + " on " + format_dims(dims));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const ncl_shape in = check_input(s, dims), out = output_shape(s, in);
  std::vector<float> x(std::size_t(in.count())), w(std::size_t(s.weight_count())), b(std::size_t(s.bias_count()));
  for (auto* v : {&x, &w, &b})
    for (float& f : *v) f = value(rng);
  std::vector<float> expected(std::size_t(out.count()));
  reference_conv1d(s, in, x.data(), w.data(), s.bias ? b.data() : nullptr, expected.data());
  const double tolerance = 1e-5 + 2e-6 * double(s.in_channels_per_group() * s.kernel_size);
  std::map<isa, std::pair<std::string, std::vector<float>>> first_at_isa;
  for (const auto& config : configs) {
    conv1d_options options = config.options();
    options.threads = threads;
    const auto layer = conv1d::create(s, w, b, options);
    ASSERT_EQ(layer.selected_backend(), config.b) << config.name();
    ASSERT_EQ(layer.compiled().plan->target, *config.target) << config.name();
    std::vector<float> storage(std::size_t(out.count()) + 16, NAN);
    const std::span<float> y = aligned_span(storage, std::size_t(out.count()));
    layer.forward(x, dims, y);
    for (std::size_t e = 0; e < y.size(); ++e)
      ASSERT_NEAR(y[e], expected[e], tolerance) << config.name() << " element " << e << " of " << format_dims(out.dims());
    auto [it, first] = first_at_isa.try_emplace(*config.target, config.name(), std::vector<float>(y.begin(), y.end()));
    if (!first) {
      for (std::size_t e = 0; e < y.size(); ++e)
        ASSERT_EQ(y[e], it->second.second[e]) << config.name() << " and " << it->second.first << " at element " << e;
    }
  }
  for (const auto& [target, result] : first_at_isa)
    for (std::size_t e = 0; e < expected.size(); ++e)
      ASSERT_NEAR(result.second[e], first_at_isa.begin()->second.second[e], 2 * tolerance)
          << result.first << " and " << first_at_isa.begin()->second.first << " at element " << e;
}

class jit_sweep_test : public ::testing::TestWithParam<int> {};

TEST_P(jit_sweep_test, matches_reference_at_every_isa) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(20261121u + unsigned(GetParam()));
  for (int i = 0; i < kCasesPerShard; ++i) {
    const testing::sweep_case c = testing::random_case(rng);
    ASSERT_NO_FATAL_FAILURE(check_layer_on(c.spec, c.dims, rng, configs));
  }
}

INSTANTIATE_TEST_SUITE_P(shard, jit_sweep_test, ::testing::Range(0, kShards));

#ifdef CONVJIT_AOT_SWEEP_MODEL  // not in the sanitizer builds (tests/CMakeLists.txt)
// Every layer of the AOT sweep model through its compiled-in kernels at each
// ISA, and through the JIT backends at the same ISAs.
TEST(aot_sweep_test, matches_reference_and_the_jit) {
  const auto configs = configs_of({backend::aot, backend::xbyak, backend::llvm});
  if (std::none_of(configs.begin(), configs.end(), [](const auto& c) { return c.b == backend::aot; }))
    GTEST_SKIP() << "no AOT configuration runs here";
  const auto layers = load_model(CONVJIT_AOT_SWEEP_MODEL);
  ASSERT_GE(layers.size(), 200u);
  std::mt19937 rng(7);
  for (const model_layer& layer : layers) ASSERT_NO_FATAL_FAILURE(check_layer_on(layer.spec, layer.input_dims, rng, configs));
}
#endif

// `shape` with its "{}" replaced by the padding mode.
conv1d_spec spec_in_mode(std::string shape, const char* mode) {
  shape.replace(shape.find("{}"), 2, mode);
  return parse_spec(shape);
}

// Wide dilations get tap-segment windows: every padding mode, strided or not.
// With zero padding wider than a tile, whole tiles leave out the taps that
// read only padding, at either end or (short rows) both, up to 7 of 9 taps.
TEST(wide_dilation_test, compact_windows_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(5);
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(12, 20, 3, padding=200, dilation=200, padding_mode='{}')",
                              "Conv1d(6, 9, 4, stride=3, padding=90, dilation=60, padding_mode='{}')",
                              "Conv1d(16, 16, 5, padding='same', dilation=150, groups=16, padding_mode='{}')",
                              "Conv1d(8, 12, 9, padding=640, dilation=100, padding_mode='{}')"}) {
      const conv1d_spec s = spec_in_mode(shape, mode);
      std::string why;
      ASSERT_TRUE(make_plan(s, isa::avx512, &why)->compact_windows) << why;
      for (const std::int64_t length : {700, 100}) {
        if (s.mode != padding_mode::zeros && length <= std::max(s.pad_left(), s.pad_right())) continue;  // PyTorch's rule
        ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {2, s.in_channels, length}, rng, configs));
      }
    }
}

// Depthwise layers with channels for the lanes take the channel-lane tile
// (on AVX-512 only when strided: see sliding_tile_test): rows long enough for
// several chunks (interior windows transposed straight from the input), a last
// block with unused lanes, every padding mode.
TEST(lane_tile_test, long_depthwise_rows_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(11);
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(20, 20, 7, padding=3, groups=20, padding_mode='{}')",
                              "Conv1d(32, 32, 31, padding=15, groups=32, bias=False, padding_mode='{}')",
                              "Conv1d(24, 24, 5, stride=2, padding=4, dilation=3, groups=24, padding_mode='{}')",
                              "Conv1d(16, 16, 3, groups=16, padding_mode='{}')"}) {
      const conv1d_spec s = spec_in_mode(shape, mode);
      std::string why;
      ASSERT_GT(make_plan(s, isa::avx2, &why)->lane_ur, 0) << to_string(s);  // AVX-512: sliding at stride 1
      ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {2, s.in_channels, 700}, rng, configs));
      ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {s.in_channels, 41}, rng, configs));
    }
}

// Depthwise layers of stride 1 on AVX-512 slide their input through
// registers: taps between whole vectors shifted or from memory, taps on them
// (K = 1, dilation 16) from the registers themselves, reaches of up to three
// vectors past the tile (K = 64, 8 vectors a tile), tiles of 14 vectors
// (K = 15), in-place and windowed tiles, pieces of a partial last tile, every
// padding mode.
TEST(sliding_tile_test, depthwise_rows_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(17);
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(20, 20, 15, padding=7, groups=20, padding_mode='{}')",
                              "Conv1d(3, 3, 31, padding=15, groups=3, bias=False, padding_mode='{}')",
                              "Conv1d(4, 4, 1, groups=4, padding_mode='{}')",
                              "Conv1d(5, 5, 3, padding=32, dilation=16, groups=5, padding_mode='{}')",
                              "Conv1d(6, 6, 17, padding=16, dilation=2, groups=6, padding_mode='{}')",
                              "Conv1d(2, 2, 64, padding=63, groups=2, padding_mode='{}')"}) {
      const conv1d_spec s = spec_in_mode(shape, mode);
      std::string why;
      ASSERT_TRUE(make_plan(s, isa::avx512, &why)->slide_src) << to_string(s);
      for (std::int64_t length : {1000, 245, 70, 17}) {
        if (s.mode != padding_mode::zeros && length <= std::max(s.pad_left(), s.pad_right())) continue;  // PyTorch's rule
        ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {2, s.in_channels, length}, rng, configs));
      }
      ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {s.in_channels, 300}, rng, configs));
    }
}

// A depthwise row of stride 1 runs as whole tiles and one piece moved back to
// end the row: windows only for the calls whose taps leave the input (padding
// wider than a tile: several windowed calls; rows so short the two edges
// meet), the rest in place; rows longer than a driver item (tile_group tiles)
// split into chunks, the last one shorter than a piece (cut into smaller
// ones) or than a vector (joined to the one before), on one thread and on
// two; an output shorter than a vector through scratch.
TEST(sliding_tile_test, rows_cut_at_vectors_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(19);
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"}) {
    const conv1d_spec wide = spec_in_mode("Conv1d(2, 2, 5, padding=300, groups=2, padding_mode='{}')", mode);
    const kernel_plan p = *make_plan(wide, isa::avx512, nullptr);
    ASSERT_GT(wide.pad_left(), p.tile_width()) << to_string(wide);
    if (wide.mode == padding_mode::zeros) {  // PyTorch's rule: other modes need L_in > padding
      ASSERT_NO_FATAL_FAILURE(check_layer_on(wide, {1, 2, 40}, rng, configs));
      ASSERT_NO_FATAL_FAILURE(check_layer_on(wide, {1, 2, 1000}, rng, configs));
    } else {
      ASSERT_NO_FATAL_FAILURE(check_layer_on(wide, {1, 2, 333}, rng, configs));
    }
    const conv1d_spec k15 = spec_in_mode("Conv1d(3, 3, 15, padding=7, groups=3, padding_mode='{}')", mode);
    const kernel_plan q = *make_plan(k15, isa::avx512, nullptr);
    const std::int64_t chunk = std::int64_t(q.tile_group) * q.tile_width();
    for (int threads : {1, 2}) {
      ASSERT_NO_FATAL_FAILURE(check_layer_on(k15, {1, 3, 2 * chunk + 37}, rng, configs, threads));
      ASSERT_NO_FATAL_FAILURE(check_layer_on(k15, {3, chunk + 7}, rng, configs, threads));
    }
    ASSERT_NO_FATAL_FAILURE(check_layer_on(k15, {2, 3, 20}, rng, configs));
    ASSERT_NO_FATAL_FAILURE(check_layer_on(k15, {2, 3, 9}, rng, configs));
  }
}

// `count` floats that end where a page no one may read begins: a kernel that
// reads past them faults.
class guarded_floats {
 public:
  explicit guarded_floats(std::size_t count) : count_(count) {
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    bytes_ = (count * sizeof(float) + page - 1) / page * page + page;
    mapping_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED || mprotect(static_cast<char*>(mapping_) + bytes_ - page, page, PROT_NONE) != 0)
      throw std::runtime_error("no guarded mapping");
    data_ = reinterpret_cast<float*>(static_cast<char*>(mapping_) + bytes_ - page) - count;
  }
  guarded_floats(const guarded_floats&) = delete;
  guarded_floats& operator=(const guarded_floats&) = delete;
  ~guarded_floats() { munmap(mapping_, bytes_); }
  float* data() const { return data_; }
  std::span<const float> span() const { return {data_, count_}; }

 private:
  std::size_t count_, bytes_;
  void* mapping_;
  float* data_;
};

// A last tile of whole vectors, or of a partial last vector whose valid lanes'
// taps all lie in the input, reads its rows in place; the partial vector's
// other lanes read on past the row's end, into the next row, and are never
// stored. Past the tensor's last row that is not the input: there the tile
// reads a window. A partial last vector is stored (and, adding to the output
// of an earlier input-channel block, loaded) masked to its outputs: a lane
// past them would overwrite the next row's first tile, written before it.
// Input and output end at an unreadable page, so an access past either faults.
TEST(last_tile_test, reads_and_writes_in_place_up_to_the_tensors_ends) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  struct layer_case {
    const char* spec;
    std::vector<std::int64_t> dims;
  };
  // One tile a sample, its last vector partial (on AVX-512 and AVX2); a few
  // tiles, the last partial; the last of an input-channel split, which cannot
  // move back; grouped; unbatched; a depthwise row shorter than a vector. (A
  // padded layer's last outputs read its right padding: they never read in
  // place.)
  for (const layer_case& c : {layer_case{"Conv1d(5, 5, 3)", {7, 5, 49}},
                              layer_case{"Conv1d(3, 8, 4, dilation=2)", {2, 3, 41}},
                              layer_case{"Conv1d(4, 20, 3)", {3, 4, 203}},
                              layer_case{"Conv1d(1100, 9, 2)", {2, 1100, 38}},
                              layer_case{"Conv1d(6, 6, 5, groups=3)", {2, 6, 35}},
                              layer_case{"Conv1d(2, 3, 7)", {2, 28}},
                              layer_case{"Conv1d(4, 4, 3, groups=4)", {2, 4, 9}}}) {
    const conv1d_spec s = parse_spec(c.spec);
    SCOPED_TRACE(std::string(c.spec) + " on " + format_dims(c.dims));
    const ncl_shape in = check_input(s, c.dims), out = output_shape(s, in);
    ASSERT_NE(out.l % 16, 0);
    const guarded_floats x(std::size_t(in.count())), y(std::size_t(out.count()));
    for (std::size_t e = 0; e < std::size_t(in.count()); ++e) x.data()[e] = value(rng);
    std::vector<float> w(std::size_t(s.weight_count())), b(std::size_t(s.bias_count()));
    for (auto* v : {&w, &b})
      for (float& f : *v) f = value(rng);
    std::vector<float> expected(std::size_t(out.count()));
    reference_conv1d(s, in, x.data(), w.data(), s.bias ? b.data() : nullptr, expected.data());
    const double tolerance = 1e-5 + 2e-6 * double(s.in_channels_per_group() * s.kernel_size);
    for (const auto& config : configs) {
      const auto layer = conv1d::create(s, w, b, config.options());
      std::fill_n(y.data(), expected.size(), NAN);
      layer.forward(x.span(), c.dims, std::span<float>(y.data(), expected.size()));
      for (std::size_t e = 0; e < expected.size(); ++e)
        ASSERT_NEAR(y.data()[e], expected[e], tolerance) << config.name() << " element " << e;
    }
  }
  EXPECT_TRUE(make_plan(parse_spec("Conv1d(1100, 9, 2)"), isa::avx512, nullptr)->splits_channels());
}

// The dot tile reads a column in place when it lies whole in the input (the
// plan's dot_in_place): one column a sample (L_out = 1, depthwise or K = L_in),
// or a few positions of one sample. Its partial last vector is masked: the
// input ends where a page no one may read begins, and the floats just past
// each column are infinite, so a lane read or counted past a column faults
// or turns its output into NaN. A dot tile with rows in lanes (100 rows: a
// partial last vector on AVX-512 and AVX2) writes its last sample's rows up
// to the output's end, another such page.
TEST(dot_tile_test, columns_read_in_place_stop_at_their_end) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  struct layer_case {
    const char* spec;
    std::vector<std::int64_t> dims;
  };
  for (const layer_case& c : {layer_case{"Conv1d(5, 5, 49, groups=5, bias=False)", {7, 5, 49}},
                              layer_case{"Conv1d(5, 10, 23, groups=5)", {3, 5, 23}},
                              layer_case{"Conv1d(100, 100, 1)", {9, 100, 1}},
                              layer_case{"Conv1d(100, 100, 1)", {3, 100, 4}},  // tiles of 4, not dot_ur 6
                              layer_case{"Conv1d(24, 40, 3)", {3, 24, 7}},     // rows in lanes, through a scratch
                              layer_case{"Conv1d(3, 4, 7)", {5, 3, 7}},
                              layer_case{"Conv1d(2, 2, 40, groups=2)", {2, 41}},
                              layer_case{"Conv1d(2, 2, 37, stride=3, groups=2)", {1, 2, 43}}}) {
    const conv1d_spec s = parse_spec(c.spec);
    SCOPED_TRACE(std::string(c.spec) + " on " + format_dims(c.dims));
    const ncl_shape in = check_input(s, c.dims), out = output_shape(s, in);
    for (isa target : {isa::avx512, isa::avx2}) {  // portable plans may step through a long column instead
      const kernel_plan p = *make_plan(s, target, nullptr);
      ASSERT_TRUE(p.dot_in_place && p.use_dot_tile(out.l)) << p.describe();
    }
    // The input, ending at an unreadable page; the float after each column infinite.
    const std::size_t count = std::size_t(in.count());
    const guarded_floats guarded(count);
    float* const x = guarded.data();
    for (std::size_t e = 0; e < count; ++e) x[e] = value(rng);
    // After every other column (in memory order), so the columns between stay finite.
    const std::int64_t cin_g = s.in_channels_per_group();
    for (std::int64_t n = 0; n < in.n; ++n)
      for (std::int64_t g = 0; g < s.groups; ++g)
        for (std::int64_t t = 0; t < out.l; ++t) {
          const std::int64_t past = ((n * in.c + g * cin_g) * in.l + t * s.stride) + (cin_g - 1) * in.l + s.receptive_field();
          if (((n * s.groups + g) * out.l + t) % 2 == 0 && past < std::int64_t(count)) x[past] = INFINITY;
        }
    std::vector<float> w(std::size_t(s.weight_count())), b(std::size_t(s.bias_count()));
    for (auto* v : {&w, &b})
      for (float& f : *v) f = value(rng);
    std::vector<float> expected(std::size_t(out.count()));
    reference_conv1d(s, in, x, w.data(), s.bias ? b.data() : nullptr, expected.data());
    ASSERT_GT(std::count_if(expected.begin(), expected.end(), [](float e) { return std::isfinite(e); }), 0);
    const double tolerance = 1e-5 + 2e-6 * double(s.in_channels_per_group() * s.kernel_size);
    for (const auto& config : configs) {
      conv1d_options options = config.options();
      const auto layer = conv1d::create(s, w, b, options);
      const guarded_floats guarded_y(expected.size());
      float* const y = guarded_y.data();
      std::fill_n(y, expected.size(), NAN);
      layer.forward(std::span<const float>(x, count), c.dims, std::span<float>(y, expected.size()));
      for (std::size_t e = 0; e < expected.size(); ++e) {
        if (std::isfinite(expected[e])) ASSERT_NEAR(y[e], expected[e], tolerance) << config.name() << " element " << e;
        else ASSERT_EQ(std::isnan(y[e]), std::isnan(expected[e])) << config.name() << " element " << e;
      }
    }
  }
}

// The last few positions of an output, past its whole tiles: as the trailing
// columns of the whole tile before, or on the column tile (after the last
// tile's whole vectors, if any), with a split reduction (column calls adding
// up across input-channel blocks), tap-segment windows and an output-channel
// tail; or, where the plan has no column tile (one output channel a group),
// on the dot tile.
TEST(mixed_tiles_test, leftover_positions_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(13);
  int trailing_cases = 0;
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(64, 40, 3, stride=2, padding=1, padding_mode='{}')",
                              "Conv1d(24, 30, 5, padding=2, dilation=2, groups=2, padding_mode='{}')",
                              "Conv1d(320, 47, 3, stride=2, padding=1, padding_mode='{}')",
                              "Conv1d(16, 20, 3, padding=100, dilation=100, padding_mode='{}')",
                              "Conv1d(24, 6, 5, padding=2, groups=6, padding_mode='{}')"}) {
      const conv1d_spec s = spec_in_mode(shape, mode);
      const kernel_plan p = *make_plan(s, isa::avx512, nullptr);
      std::vector<std::int64_t> leftovers{1, 2};
      if (p.column_ur > 0) leftovers.insert(leftovers.end(), {p.column_ur, p.vlen + 1});
      for (std::int64_t leftover : leftovers) {
        const std::int64_t l_out = 2 * p.tile_width() + leftover;
        trailing_cases += p.use_trailing_columns(leftover);
        if (p.column_ur > 0) ASSERT_TRUE(p.use_column_tile(leftover % p.vlen)) << to_string(s);
        else ASSERT_TRUE(p.use_dot_tile(leftover) && !p.use_dot_tile(l_out)) << to_string(s);
        const std::int64_t l_in = (l_out - 1) * s.stride + s.receptive_field() - s.pad_left() - s.pad_right();
        ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {2, s.in_channels, l_in}, rng, configs));
      }
    }
  // The cases above: trailing columns, a split reduction, tap-segment windows, an oc tail.
  EXPECT_GT(trailing_cases, 0);
  const kernel_plan split = *make_plan(parse_spec("Conv1d(320, 47, 3, stride=2, padding=1)"), isa::avx512, nullptr);
  EXPECT_TRUE(split.splits_channels() && split.oc_tail > 0);
  EXPECT_TRUE(make_plan(parse_spec("Conv1d(16, 20, 3, padding=100, dilation=100)"), isa::avx512, nullptr)->compact_windows);
}

// Outputs beyond the last-level cache, from short reductions, stored past the
// caches: whole tiles, and the pieces of a partial last tile (the AOT sweep runs
// the same layers through its kernels). Only aligned rows of a large enough
// output are streamed.
TEST(stream_test, large_outputs_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(23);
  for (const auto& [shape, l_in] : {std::pair{"Conv1d(2, 16, 7, padding=3)", std::int64_t{525328}},
                                    std::pair{"Conv1d(1, 64, 10, stride=5, bias=False)", std::int64_t{656005}}}) {
    const conv1d_spec s = parse_spec(shape);
    const std::vector<std::int64_t> dims{1, s.in_channels, l_in};
    const ncl_shape out = output_shape(s, check_input(s, dims));
    std::vector<float> storage(std::size_t(out.count()) + 16);
    const float* aligned = aligned_span(storage, std::size_t(out.count())).data();
    for (isa target : {isa::avx512, isa::avx2, isa::scalar}) {
      const kernel_plan p = *make_plan(s, target, nullptr);
      EXPECT_TRUE(streams_output(p, out, aligned)) << shape << " " << isa_name(target);
      EXPECT_NE(out.l % p.tile_width(), 0) << shape << ": no partial last tile";
      EXPECT_FALSE(streams_output(p, out, aligned + 1));
      EXPECT_FALSE(streams_output(p, {out.n, out.c, out.l / 2}, aligned)) << "an output the cache holds";
      EXPECT_FALSE(streams_output(p, {out.n, out.c, out.l - 1}, aligned)) << "rows off the vectors";
    }
    ASSERT_NO_FATAL_FAILURE(check_layer_on(s, dims, rng, configs));
  }
  // A compute-bound layer's stores are few: its plan never streams.
  const kernel_plan dense = *make_plan(parse_spec("Conv1d(512, 512, 3, padding=1)"), isa::avx512, nullptr);
  std::vector<float> storage(std::size_t(512 * 32768) + 16);
  EXPECT_FALSE(streams_output(dense, {1, 512, 32768}, aligned_span(storage, std::size_t(512 * 32768)).data()));
}

// A kernel of more code than the Xbyak JIT's first scratch (256 KiB,
// runtime/xbyak_jit.cc) is emitted again into a larger one.
TEST(large_code_test, kernels_past_the_first_scratch_match_reference) {
  const conv1d_spec s = parse_spec("Conv1d(64, 64, 64, padding=100, padding_mode='reflect')");
  EXPECT_GT(build_xbyak_kernel(*make_plan(s, isa::avx512, nullptr))->code.size(), std::size_t{1} << 18);
  const auto configs = configs_of({backend::xbyak});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA the Xbyak backend generates for";
  std::mt19937 rng(29);
  ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {2, 64, 300}, rng, configs));
}

// Layers with large weights, or short reductions, run tiles in groups that
// share each pass over the weights: groups of in-place and windowed (edge)
// tiles, a partial last tile, a group cut short by the end of a sample or of a
// thread's share.
TEST(mixed_tiles_test, tile_groups_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(19);
  for (const char* shape : {"Conv1d(320, 320, 3, padding=1, padding_mode='reflect')",
                            "Conv1d(768, 768, 4, stride=2, padding=3, groups=2)",
                            "Conv1d(1, 40, 10, stride=5, bias=False)",
                            "Conv1d(4, 36, 7, padding=3, groups=2, padding_mode='circular')"}) {
    const conv1d_spec s = parse_spec(shape);
    const kernel_plan p = *make_plan(s, isa::avx512, nullptr);
    ASSERT_GT(p.tile_group, 1) << shape;
    // Beyond one group and a partial one, cut short by the end of the sample.
    const std::int64_t groups_and_more = (std::max(p.tile_group, 4) + 1) * p.tile_width() + 7;
    for (std::int64_t l_out : {groups_and_more, std::int64_t{p.tile_width()} - 3})
      for (int threads : {1, 2}) {
        const std::int64_t l_in = (l_out - 1) * s.stride + s.receptive_field() - s.pad_left() - s.pad_right();
        ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {3, s.in_channels, l_in}, rng, configs, threads));
      }
  }
}

// Fewer tiles than threads (one sample, a short output): each thread takes a
// share of the output-channel blocks, of position tiles (with a partial one,
// and a column tile for the last position) and of dot tiles.
TEST(mixed_tiles_test, blocks_shared_between_threads_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(23);
  const std::pair<const char*, std::int64_t> shapes[] = {
      {"Conv1d(256, 100, 2, stride=2)", 98},                 // one tile and a column tile for the 49th position
      {"Conv1d(320, 72, 3, padding=1, groups=2)", 40},      // one partial tile, two groups
      {"Conv1d(1024, 300, 1, bias=False)", 4},              // dot tiles only
      {"Conv1d(64, 80, 3)", 147},                           // whole tiles that threads do not divide, a column
  };
  for (const auto& [shape, l_in] : shapes)
    for (int threads : {2, 3}) ASSERT_NO_FATAL_FAILURE(check_layer_on(parse_spec(shape), {1, parse_spec(shape).in_channels, l_in}, rng, configs, threads));
}

// Without input-channel splits, a last tile that ends in a partial vector
// moves back to end at the output's end and computes a few of the tile
// before's outputs again. Whichever thread writes them last, they must come
// out the same, bit for bit, as the whole tiles of a longer output compute
// them (no padding: an output position reads the same inputs in both). Blocks
// of 4 and 5 rows (AVX2, stride 2), whose narrow variants sum in another
// order and so do not move back, tap-segment windows, a batch.
TEST(moved_back_tile_test, recomputed_outputs_match_whole_tiles_bit_for_bit) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const std::pair<const char*, std::int64_t> shapes[] = {
      {"Conv1d(16, 64, 3)", 103},  // 48, 48 and 5 positions
      {"Conv1d(40, 10, 3, stride=2)", 1007},
      {"Conv1d(16, 20, 5)", 305},
      {"Conv1d(16, 32, 2, dilation=300)", 1001},
  };
  for (const auto& [shape, l_in] : shapes) {
    const conv1d_spec s = parse_spec(shape);
    for (const auto& config : configs) {
      SCOPED_TRACE(std::string(shape) + " on " + config.name());
      const kernel_plan p = *make_plan(s, *config.target, nullptr);
      ASSERT_FALSE(p.splits_channels());
      const std::vector<std::int64_t> dims = {2, s.in_channels, l_in};
      ASSERT_NO_FATAL_FAILURE(check_layer_on(s, dims, rng, {config}));
      const std::int64_t longer = l_in + 2 * p.tile_width() * s.stride;
      const std::vector<std::int64_t> long_dims = {2, s.in_channels, longer};
      const ncl_shape out = output_shape(s, check_input(s, dims)), long_out = output_shape(s, check_input(s, long_dims));
      ASSERT_NE(out.l % p.vlen, 0);
      std::vector<float> x(std::size_t(2 * s.in_channels * longer)), w(std::size_t(s.weight_count())),
          b(std::size_t(s.bias_count()));
      for (auto* v : {&x, &w, &b})
        for (float& f : *v) f = value(rng);
      std::vector<float> x_short(std::size_t(2 * s.in_channels * l_in));
      for (std::int64_t row = 0; row < 2 * s.in_channels; ++row)
        std::copy_n(x.begin() + row * longer, l_in, x_short.begin() + row * l_in);
      const auto layer = conv1d::create(s, w, b, config.options());
      std::vector<float> y(std::size_t(out.count())), y_long(std::size_t(long_out.count()));
      layer.forward(x_short, dims, y);
      layer.forward(x, long_dims, y_long);
      const std::int64_t whole_tiles_end = (p.tile_count(out.l) - 1) * p.tile_width();  // the last tile's own may differ
      for (std::int64_t row = 0; row < 2 * s.out_channels; ++row)
        for (std::int64_t t = 0; t < whole_tiles_end; ++t)
          ASSERT_EQ(y[std::size_t(row * out.l + t)], y_long[std::size_t(row * long_out.l + t)]) << "row " << row << " position " << t;
    }
  }
}

// Outputs shorter than a dot tile: a tile's columns span samples (pointwise
// over a batch, L_out = 1 with and without padding, a few positions each), so
// some store in place and the rest go to their samples one by one.
TEST(mixed_tiles_test, dot_tiles_spanning_samples_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(17);
  const std::pair<const char*, std::int64_t> shapes[] = {
      {"Conv1d(100, 100, 1)", 1},                                  // columns are whole samples, copied at once
      {"Conv1d(5, 5, 49, groups=5, bias=False)", 49},              // depthwise, L_out = 1
      {"Conv1d(32, 18, 3, padding=1, groups=2, padding_mode='replicate')", 1},
      {"Conv1d(12, 20, 4, stride=3, padding=2)", 9},               // 3 positions a sample
  };
  for (const auto& [shape, l_in] : shapes) {
    const conv1d_spec s = parse_spec(shape);
    for (std::int64_t n : {1, 3, 7, 32}) {
      const ncl_shape out = output_shape(s, check_input(s, std::vector<std::int64_t>{n, s.in_channels, l_in}));
      ASSERT_TRUE(make_plan(s, isa::avx512, nullptr)->use_dot_tile(out.l)) << shape;
      ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {n, s.in_channels, l_in}, rng, configs));
    }
  }
}

// Dot weights beyond L2 (rows outer): each block of rows runs over the
// columns of a pass of tiles; 60 tiles of 3072-float columns take two passes,
// and with two groups each group's columns have their own place in a pass.
TEST(mixed_tiles_test, dot_rows_outer_passes_match_reference) {
  const auto configs = configs_of({backend::xbyak, backend::llvm});
  if (configs.empty()) GTEST_SKIP() << "this host has no ISA a JIT backend generates for";
  std::mt19937 rng(29);
  const std::pair<const char*, std::int64_t> shapes[] = {
      {"Conv1d(512, 300, 3, stride=2, padding=1)", 1},             // L_out = 1
      {"Conv1d(1024, 520, 3, padding=1, groups=2, bias=False)", 3},  // L_out = 3: tiles spanning samples
  };
  for (const auto& [shape, l_in] : shapes) {
    const conv1d_spec s = parse_spec(shape);
    ASSERT_TRUE(make_plan(s, isa::avx512, nullptr)->dot_rows_outer) << shape;
    for (std::int64_t n : {1, 5, 120})
      for (int threads : {1, 2}) ASSERT_NO_FATAL_FAILURE(check_layer_on(s, {n, s.in_channels, l_in}, rng, configs, threads));
  }
}

}  // namespace
}  // namespace convjit
