// SPDX-License-Identifier: MIT
// Plan invariants: register budget, every output written once, tails, packing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>

#include "generator/plan.h"

namespace convjit {
namespace {

kernel_plan plan_of(const char* text, isa target) {
  std::string why;
  auto plan = make_plan(parse_spec(text), target, &why);
  EXPECT_TRUE(plan) << text << ": " << why;
  return *plan;
}

// A spread of layers: dense, grouped, depthwise, strided, dilated, padded.
const char* const kSpecs[] = {
    "Conv1d(512, 512, 3, stride=2, padding=1)", "Conv1d(80, 512, 3, padding=1)", "Conv1d(1, 512, 10, stride=5)",
    "Conv1d(256, 256, 31, padding=15, groups=256)", "Conv1d(100, 100, 1)", "Conv1d(5, 5, 49, groups=5, bias=False)",
    "Conv1d(64, 128, 2, dilation=512)", "Conv1d(6, 10, 7, stride=3, padding=4, groups=2, padding_mode='reflect')",
    "Conv1d(3, 7, 5, stride=8, dilation=3, padding_mode='circular', padding=6)", "Conv1d(8, 16, 3, groups=8)",
    "Conv1d(6, 1, 7, padding=5, dilation=2, padding_mode='replicate')", "Conv1d(512, 8, 3)"};

TEST(plan_test, register_budget_holds) {
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      EXPECT_LE(p.vector_registers_used(), vector_registers(target)) << text;
      EXPECT_GE(p.oc_block, 1);
      EXPECT_LE(p.oc_block, p.spec.out_channels_per_group()) << text;
      EXPECT_EQ(p.oc_tail, p.spec.out_channels_per_group() % p.oc_block) << text;
      EXPECT_EQ(p.vlen, vector_floats(target));
      // Accumulators, src vectors and the weight never share a register.
      EXPECT_LT(p.acc_register(p.oc_block - 1, p.ur_w - 1), p.src_in_registers ? p.src_register(0) : p.weight_register());
      for (const auto& v : p.variants()) {
        const int columns = v.ur * v.sums;
        EXPECT_LE(columns, v.row_registers) << text;
        if (v.columns) {  // the accumulators, one broadcast input, the weight vector
          EXPECT_EQ(v.first_src, columns) << text;
          EXPECT_EQ(v.weight, columns + 1) << text;
          EXPECT_LT(v.weight, vector_registers(target)) << text;
          continue;
        }
        if (v.row_vectors > 0) {  // the accumulators, the broadcast column, a weight vector per row vector
          EXPECT_EQ(v.row_vectors, (v.rows + p.vlen - 1) / p.vlen) << text;
          EXPECT_EQ(v.first_src, v.row_vectors * v.ur) << text;
          EXPECT_EQ(v.weight, v.first_src + 1) << text;
          EXPECT_LT(v.weight_of(v.row_vectors - 1), vector_registers(target)) << text;
          continue;
        }
        if (p.slide_src && !v.dot && !v.lanes) {  // accumulators, the sources, the weight, the shifted input
          EXPECT_LE(v.row_registers, v.first_src) << text;
          EXPECT_LE(v.first_src + p.slide_sources(v.ur), v.weight) << text;
          EXPECT_EQ(v.shifted, v.weight + 1) << text;
          EXPECT_LT(v.shifted, vector_registers(target)) << text;
        }
        if (v.edge != row_edge::none) {  // a position tile's registers, then one for an edge vector an FMA reads
          EXPECT_EQ(v.shifted, v.weight + 1) << text;
          if (!p.src_in_registers) {
            EXPECT_LT(v.shifted, vector_registers(target)) << text;
          }
          if (!p.slide_src) {  // AVX2's scratch: the weight, free while src vectors load, or one more
            EXPECT_EQ(v.edge_scratch, p.src_in_registers ? v.weight : v.shifted + 1) << text;
            EXPECT_LT(v.edge_scratch, vector_registers(target)) << text;
          }
        }
        if (v.trailing > 0) {  // a whole tile's registers, then an accumulator a trailing column
          EXPECT_EQ(v.ur, p.ur_w) << text;
          EXPECT_GE(v.first_trailing, p.vector_registers_used()) << text;
          EXPECT_LE(v.first_trailing + v.trailing, vector_registers(target)) << text;
        }
        EXPECT_LE(v.acc_register(v.rows - 1, columns - 1), v.first_src - (p.src_in_registers || v.dot ? 1 : 0)) << text;
        const int sources = v.dot && p.dot_columns_from_memory ? 1 : v.ur;  // from memory: one for the lane sum
        EXPECT_LE(v.first_src + sources - 1, v.weight - 1 + (p.src_in_registers || v.dot ? 0 : v.ur)) << text;
        EXPECT_LT(v.weight, vector_registers(target)) << text;
      }
    }
}

// The channel step every emitter renders: each (row, vector, tap) FMA exactly
// once, reading a src register loaded earlier in the same tap and the weight
// broadcast just before it, at the tap's phase and offset; each trailing
// column's FMA once per tap, with the tap's weight vector, at the tap's phase
// and offset past the tile's vectors.
TEST(plan_test, channel_step_covers_every_fma_once) {
  using kind = kernel_plan::step_op::kind;
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      for (const auto& v : p.variants()) {
        if (v.dot || v.lanes || v.columns) continue;  // dot_steps_cover_the_reduction, lane_step_..., column_step_...
        if (p.slide_src && !v.compact) continue;        // slide_step_covers_every_position_and_tap
        EXPECT_EQ(p.channel_steps(v), p.ic_block) << text;  // a step per input channel
        std::vector<int> fmas(std::size_t(v.rows * v.ur * p.spec.kernel_size), 0);
        std::vector<int> trailing_fmas(std::size_t(v.trailing * p.spec.kernel_size), 0);
        std::vector<std::int64_t> loaded(std::size_t(v.ur), -1);
        int weight = -1, tap = -1, vector_tap = -1;
        const std::int64_t from_row_start = v.edge == row_edge::left ? -p.spec.pad_left() : 0;  // a left edge's src
        for (const auto& op : p.channel_step(v)) {
          switch (op.what) {
            case kind::load_src:
              loaded[std::size_t(op.j)] = op.phase * 1000000 + op.offset - from_row_start - op.j * p.vlen;
              break;
            case kind::broadcast_weight:
              weight = op.weight;
              tap = op.weight / v.rows;
              EXPECT_EQ(op.weight % v.rows, op.o);
              break;
            case kind::load_weight:  // a trailing column's weights: the tap's, after its position FMAs
              EXPECT_GT(v.trailing, 0) << text;
              EXPECT_EQ(op.weight % v.rows, 0) << text;
              vector_tap = op.weight / v.rows;
              EXPECT_EQ(vector_tap, tap) << text;
              break;
            case kind::fma_trailing: {
              ASSERT_GE(vector_tap, 0) << text;
              ASSERT_LT(op.j, v.trailing) << text;
              const tap_source& t = p.taps[std::size_t(vector_tap)];
              EXPECT_EQ(op.phase, t.phase) << text;
              EXPECT_EQ(op.offset, t.offset + p.tile_width() + op.j) << text;
              ++trailing_fmas[std::size_t(vector_tap * v.trailing + op.j)];
              break;
            }
            case kind::fma_broadcast_src:
            case kind::fma_shifted:
            case kind::broadcast_column:
            case kind::fma_column: ADD_FAILURE() << "a position tile broadcasts its weights, its input unshifted"; break;
            case kind::fma_broadcast_weight:  // a one-vector tile: its weights broadcast by the FMA
              EXPECT_EQ(v.ur, 1) << text;
              weight = op.weight;
              tap = op.weight / v.rows;
              EXPECT_EQ(op.weight % v.rows, op.o);
              [[fallthrough]];
            case kind::fma:
            case kind::fma_from_memory: {
              ASSERT_GE(tap, 0) << text;
              EXPECT_EQ(weight, tap * v.rows + op.o) << text;
              const tap_source& t = p.taps[std::size_t(tap)];
              const std::int64_t at = v.compact ? std::int64_t(tap) * p.tile_width() : t.phase * 1000000 + t.offset;
              if (op.what != kind::fma_from_memory) EXPECT_EQ(loaded[std::size_t(op.j)], at) << text;
              else EXPECT_EQ(op.phase * 1000000 + op.offset - from_row_start - op.j * p.vlen, at) << text;
              EXPECT_EQ(op.what != kind::fma_from_memory, p.src_in_registers);
              ++fmas[std::size_t((tap * v.rows + op.o) * v.ur + op.j)];
              EXPECT_EQ(op.sum, tap % v.sums);
              break;
            }
          }
        }
        for (int count : fmas) EXPECT_EQ(count, 1) << text;
        for (int count : trailing_fmas) EXPECT_EQ(count, 1) << text;
      }
    }
}

// The driver finds each variant by its shape; one variant serves a tile's
// first input-channel block and the later ones, which add to the output.
TEST(plan_test, variant_index_finds_each_variant_once) {
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      const auto variants = p.variants();
      std::set<std::string> names;
      for (std::size_t i = 0; i < variants.size(); ++i) {
        const auto& v = variants[i];
        EXPECT_TRUE(names.insert(v.name()).second) << text << ": " << v.name();
        const int index = v.lanes                       ? p.lane_variant_index()
                          : v.columns                   ? p.column_variant_index(v.rows, v.ur)
                          : v.trailing                  ? p.trailing_variant_index(v.rows, v.trailing)
                          : v.edge != row_edge::none    ? p.edge_variant_index(v.edge, v.rows, v.ur)
                                                        : p.variant_index(v.rows, v.ur, v.compact, v.dot);
        EXPECT_EQ(index, int(i)) << text << ": " << v.name();
        EXPECT_EQ(p.adds_at_run_time(v), p.splits_channels() && !v.dot && !v.lanes && !v.columns) << text;
      }
      // A partial last tile of r vectors runs as pieces that have variants.
      const std::vector<int> urs = p.position_urs();
      if (p.lane_ur > 0) {
        EXPECT_TRUE(urs.empty()) << text;  // lane tiles cover every output
      }
      for (int r = 1; r <= p.ur_w && p.lane_ur == 0; ++r) {
        int done = 0;
        while (done < r) {
          const int piece = p.position_piece(r - done);
          ASSERT_GE(piece, 1);
          EXPECT_LE(piece, r - done) << text;
          EXPECT_NE(std::find(urs.begin(), urs.end(), piece), urs.end()) << text << ": " << piece;
          done += piece;
        }
        EXPECT_EQ(done, r) << text;
      }
      // So do a dot tile's and a column tile's narrower counts.
      for (const auto& [widest, dot] : {std::pair{p.dot_ur, true}, std::pair{p.column_ur, false}}) {
        const std::vector<int> counts = kernel_plan::piece_counts(widest);
        const int rows = dot ? p.dot_rows : p.oc_block;
        EXPECT_EQ(std::count_if(variants.begin(), variants.end(),
                                [&](const auto& v) { return (dot ? v.dot : v.columns) && v.rows == rows; }),
                  std::ptrdiff_t(counts.size()))
            << text;
        for (int r = 1; r <= widest; ++r) {
          int done = 0;
          for (int piece = 0; done < r; done += piece) {
            piece = kernel_plan::piece_for(widest, r - done);
            EXPECT_LE(piece, r - done) << text;
            EXPECT_NE(std::find(counts.begin(), counts.end(), piece), counts.end()) << text << ": " << piece;
          }
          EXPECT_EQ(done, r) << text;
        }
      }
    }
  EXPECT_EQ(kernel_plan::piece_counts(8), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(kernel_plan::piece_counts(7), (std::vector<int>{1, 2, 4, 7}));
  EXPECT_TRUE(kernel_plan::piece_counts(0).empty());
}

// A dot tile's steps: for every vector r of the reduction, row o's weights and
// column j's inputs at r, multiplied once, into partial sum r % sums. Step i
// reads step_weight_floats() further along both than step i - 1; a step of
// a few vectors, where one divides the reduction, keeps the code short.
TEST(plan_test, dot_steps_cover_the_reduction) {
  using kind = kernel_plan::step_op::kind;
  bool some_stepped = false, some_in_place = false, some_from_memory = false;
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      if (p.dot_rows == 0 || p.dot_rows_in_lanes) continue;  // rows_in_lanes_steps_cover_the_reduction
      EXPECT_EQ(p.dot_length % p.vlen, 0);
      EXPECT_GE(p.dot_length, p.spec.in_channels_per_group() * p.spec.kernel_size);
      EXPECT_LT(p.dot_length - p.vlen, p.spec.in_channels_per_group() * p.spec.kernel_size);
      const std::int64_t reduction = p.spec.in_channels_per_group() * p.spec.kernel_size;
      some_in_place |= p.dot_in_place && reduction < p.dot_length;
      for (const auto& v : p.variants()) {
        if (!v.dot) continue;
        const std::int64_t vectors = p.dot_length / p.vlen;
        if (p.dot_in_place && reduction < p.dot_length) {
          EXPECT_EQ(p.channel_steps(v), 1) << text;  // one masked vector
        }
        ASSERT_EQ(p.channel_steps(v) * v.channel_unroll, vectors) << text;
        EXPECT_EQ(p.step_weight_floats(v), std::int64_t(v.channel_unroll) * p.vlen) << text;
        if (p.channel_steps(v) > 1) {
          EXPECT_EQ(v.channel_unroll % v.sums, 0) << text;  // vector r's set the same in every step
        }
        some_stepped |= p.channel_steps(v) > 1;
        std::vector<int> fmas(std::size_t(v.rows * v.ur * vectors), 0);
        for (std::int64_t step = 0; step < p.channel_steps(v); ++step) {
          const std::int64_t along = step * p.step_weight_floats(v);
          std::vector<std::int64_t> column_at(std::size_t(v.ur), -1);
          std::int64_t weight_at = -1;
          int weight_row = -1;
          for (const auto& op : p.channel_step(v)) {
            switch (op.what) {
              case kind::load_src: {  // column j's own offset: the emitters add j * src_stride
                column_at[std::size_t(op.j)] = along + op.offset;
                // In place, the vector past the reduction's end holds only the lanes before it.
                const std::int64_t left = reduction - column_at[std::size_t(op.j)];
                EXPECT_EQ(op.lanes, p.dot_in_place && left < p.vlen ? left : 0) << text;
                break;
              }
              case kind::load_weight:
                weight_row = op.o;
                weight_at = along + op.weight - op.o * p.dot_length;
                break;
              case kind::fma_from_memory:  // one row: the FMA reads column j itself
                column_at[std::size_t(op.j)] = along + op.offset;
                EXPECT_EQ(op.lanes, p.dot_in_place && reduction - column_at[std::size_t(op.j)] < p.vlen
                                        ? reduction - column_at[std::size_t(op.j)]
                                        : 0)
                    << text;
                [[fallthrough]];
              case kind::fma: {
                EXPECT_EQ(op.what == kind::fma_from_memory, p.dot_columns_from_memory) << text;
                EXPECT_EQ(p.dot_columns_from_memory, p.dot_rows == 1 && target == isa::avx512) << text;
                some_from_memory |= p.dot_columns_from_memory;
                ASSERT_EQ(weight_row, op.o) << text;
                ASSERT_EQ(column_at[std::size_t(op.j)], weight_at) << text;
                const std::int64_t r = weight_at / p.vlen;
                ASSERT_LT(r, vectors) << text;
                EXPECT_EQ(op.sum, r % v.sums);
                ++fmas[std::size_t((r * v.rows + op.o) * v.ur + op.j)];
                break;
              }
              default: ADD_FAILURE() << "a dot tile loads both operands"; break;
            }
          }
        }
        for (int count : fmas) EXPECT_EQ(count, 1) << text;
      }
    }
  EXPECT_TRUE(some_stepped);
  EXPECT_TRUE(some_in_place);  // a masked last vector
  EXPECT_TRUE(some_from_memory);
}

// A dot tile with rows in lanes: for every float r of the reduction, each row
// vector's weights for r, loaded into its own register, times column j's
// float r, broadcast just before, once; the steps walk the reduction, the
// weights a block's rounded-up rows per float. Dense layers with a vector of
// output channels have it, narrower ones sum lanes.
TEST(plan_test, rows_in_lanes_steps_cover_the_reduction) {
  using kind = kernel_plan::step_op::kind;
  int plans = 0;
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      const std::int64_t cout_g = p.spec.out_channels_per_group();
      EXPECT_EQ(p.dot_rows_in_lanes, !p.depthwise && cout_g >= p.vlen) << text;
      if (!p.dot_rows_in_lanes) continue;
      ++plans;
      const std::int64_t reduction = p.spec.in_channels_per_group() * p.spec.kernel_size;
      EXPECT_EQ(p.dot_length, reduction) << text;
      EXPECT_TRUE(p.dot_in_place) << text;
      EXPECT_EQ(p.dot_rows % p.vlen == 0 || p.dot_rows == cout_g, true) << text;
      EXPECT_EQ(p.dot_tail, cout_g % p.dot_rows) << text;
      EXPECT_EQ(p.dot_group_rows() % p.vlen, 0) << text;
      for (const auto& v : p.variants()) {
        if (!v.dot) continue;
        ASSERT_GT(v.row_vectors, 0) << text;
        ASSERT_EQ(p.channel_steps(v) * v.channel_unroll, reduction) << text;
        EXPECT_EQ(p.step_src_floats(v), v.channel_unroll) << text;
        EXPECT_EQ(p.step_weight_floats(v), std::int64_t(v.channel_unroll) * v.row_vectors * p.vlen) << text;
        std::vector<int> fmas(std::size_t(reduction * v.row_vectors * v.ur), 0);
        for (std::int64_t step = 0; step < p.channel_steps(v); ++step) {
          std::vector<std::int64_t> weight_at(std::size_t(v.row_vectors), -1);  // per register: the float r it holds
          std::int64_t column_r = -1;
          int column_j = -1;
          for (const auto& op : p.channel_step(v)) {
            switch (op.what) {
              case kind::load_weight: {
                const std::int64_t along = step * p.step_weight_floats(v) + op.weight;
                const int block_floats = v.row_vectors * p.vlen;
                EXPECT_EQ(along % block_floats, op.o * p.vlen) << text;  // row vector o's lanes of float r
                weight_at[std::size_t(op.o)] = along / block_floats;
                break;
              }
              case kind::broadcast_column:
                column_r = step * p.step_src_floats(v) + op.offset;
                column_j = op.j;
                break;
              case kind::fma_column:
                ASSERT_EQ(op.j, column_j) << text;
                ASSERT_EQ(weight_at[std::size_t(op.o)], column_r) << text;
                ASSERT_LT(column_r, reduction) << text;
                ++fmas[std::size_t((column_r * v.row_vectors + op.o) * v.ur + op.j)];
                break;
              default: ADD_FAILURE() << "rows in lanes load weight vectors and broadcast columns"; break;
            }
          }
        }
        for (int count : fmas) EXPECT_EQ(count, 1) << text;
      }
    }
  EXPECT_GT(plans, 10);
}

// The lane tile: each (position, tap) FMA once, the input at window position
// j * stride + k * dilation (a whole vector of channels), tap k's weight vector.
TEST(plan_test, lane_step_covers_every_position_and_tap) {
  using kind = kernel_plan::step_op::kind;
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : {"Conv1d(256, 256, 31, padding=15, groups=256)", "Conv1d(8, 8, 5, stride=3, dilation=2, groups=8)",
                             "Conv1d(20, 20, 3, stride=2, padding=1, groups=20, padding_mode='circular')"}) {
      const kernel_plan p = plan_of(text, target);
      if (p.lane_ur == 0) continue;  // channels filling under half the lanes (8 of 16)
      const auto variants = p.variants();
      const auto& v = variants[std::size_t(p.lane_variant_index())];
      ASSERT_TRUE(v.lanes) << text;
      EXPECT_EQ(std::size_t(p.lane_variant_index()), variants.size() - 1);
      EXPECT_EQ(p.channel_steps(v), 1);
      EXPECT_EQ(v.ur, p.lane_ur);
      std::vector<int> fmas(std::size_t(v.ur * p.spec.kernel_size), 0);
      int tap = -1;
      for (const auto& op : p.channel_step(v)) {
        switch (op.what) {
          case kind::load_weight:
            EXPECT_EQ(op.weight % p.vlen, 0);
            tap = op.weight / p.vlen;
            break;
          case kind::fma_from_memory:
            ASSERT_GE(tap, 0) << text;
            EXPECT_EQ(op.phase, 0);
            EXPECT_EQ(op.offset, (op.j * p.spec.stride + tap * p.spec.dilation) * p.vlen) << text;
            EXPECT_EQ(op.sum, tap % v.sums);
            ++fmas[std::size_t(tap * v.ur + op.j)];
            break;
          default: ADD_FAILURE() << "a lane tile loads weight vectors and reads its input from memory"; break;
        }
      }
      for (int count : fmas) EXPECT_EQ(count, 1) << text;
    }
  // Channels filling under half the lanes they would take stay on position vectors.
  EXPECT_EQ(plan_of("Conv1d(5, 5, 49, groups=5, bias=False)", isa::avx512).lane_ur, 0);
  EXPECT_EQ(plan_of("Conv1d(8, 8, 5, stride=2, groups=8)", isa::avx512).lane_ur, 16);  // 8 of 16: half
  EXPECT_EQ(plan_of("Conv1d(8, 8, 5, groups=8)", isa::avx512).lane_ur, 0);            // stride 1: sliding
  EXPECT_EQ(plan_of("Conv1d(256, 256, 31, padding=15, groups=256)", isa::avx2).lane_ur, 8);
  EXPECT_EQ(plan_of("Conv1d(512, 512, 3)", isa::avx512).lane_ur, 0);  // dense
}

// The column tile: each (position, tap) FMA once, tap k's weights for the
// block's rows (a vector at k * rows), the input of position j broadcast from
// the tap's phase and offset plus j; found by column_variant_index.
TEST(plan_test, column_step_covers_every_position_and_tap) {
  using kind = kernel_plan::step_op::kind;
  for (isa target : {isa::scalar, isa::avx2, isa::avx512})
    for (const char* text : kSpecs) {
      const kernel_plan p = plan_of(text, target);
      if (p.depthwise || p.oc_block == 1 || p.oc_block > p.vlen) {  // no rows to spare, or more than a vector holds
        EXPECT_EQ(p.column_ur, 0) << text;
        EXPECT_EQ(p.trailing_columns, 0) << text;
        continue;
      }
      EXPECT_EQ(p.column_ur, p.oc_block - 1) << text;
      EXPECT_FALSE(p.use_column_tile(0));
      EXPECT_TRUE(p.use_column_tile(p.column_ur));
      EXPECT_FALSE(p.use_column_tile(p.column_ur + 1));
      // Trailing columns: as many as the registers a whole tile leaves take, none past a tap segment's end.
      EXPECT_EQ(p.trailing_columns,
                p.compact_windows ? 0 : std::min({p.column_ur, vector_registers(target) - p.vector_registers_used(), 2}))
          << text;
      EXPECT_FALSE(p.use_trailing_columns(0));
      EXPECT_EQ(p.use_trailing_columns(1), p.trailing_columns > 0);
      EXPECT_FALSE(p.use_trailing_columns(p.trailing_columns + 1));
      const auto variants = p.variants();
      int seen = 0;
      for (int rows : {p.oc_block, p.oc_tail})
        for (int ur : kernel_plan::piece_counts(rows > 0 ? p.column_ur : 0)) {
          ++seen;
          const auto& v = variants[std::size_t(p.column_variant_index(rows, ur))];
          ASSERT_TRUE(v.columns) << text;
          EXPECT_EQ(v.rows, rows);
          EXPECT_EQ(v.ur, ur);
          EXPECT_FALSE(p.adds_at_run_time(v));  // always adds
          EXPECT_EQ(v.compact, p.compact_windows);
          EXPECT_EQ(v.accumulator_rows(), 1);
          // A step covers channel_unroll channels, enough for the FMA chains when ic_block allows.
          EXPECT_EQ(p.ic_block % v.channel_unroll, 0);
          EXPECT_EQ(p.channel_steps(v), p.ic_block / v.channel_unroll);
          if (p.ic_block % 8 == 0) {
            EXPECT_GE(ur * v.sums, std::min<std::int64_t>(8, ur * p.spec.kernel_size * v.channel_unroll)) << text;
          }
          const std::int64_t taps = p.spec.kernel_size * v.channel_unroll;  // (channel, tap) pairs of a step
          std::vector<int> fmas(std::size_t(ur * taps), 0);
          int tap = -1, channel = -1;
          for (const auto& op : p.channel_step(v)) {
            switch (op.what) {
              case kind::load_weight:
                EXPECT_EQ(op.weight % rows, 0);
                tap = op.weight / rows;
                channel = op.channel;
                break;
              case kind::fma_broadcast_src: {
                ASSERT_GE(tap, 0) << text;
                const tap_source& t = p.taps[std::size_t(tap)];
                EXPECT_EQ(op.phase, v.compact ? 0 : t.phase) << text;
                EXPECT_EQ(op.offset, (v.compact ? std::int64_t(tap) * p.tile_width() : t.offset) + op.j) << text;
                EXPECT_EQ(op.o, 0);
                ASSERT_EQ(op.channel, channel);
                ASSERT_LT(channel, v.channel_unroll);
                EXPECT_EQ(op.sum, (channel * p.spec.kernel_size + tap) % v.sums);
                ++fmas[std::size_t((channel * p.spec.kernel_size + tap) * ur + op.j)];
                break;
              }
              default: ADD_FAILURE() << "a column tile loads weight vectors and broadcasts its inputs"; break;
            }
          }
          for (int count : fmas) EXPECT_EQ(count, 1) << text;
        }
      EXPECT_EQ(std::count_if(variants.begin(), variants.end(), [](const auto& v) { return v.columns; }), seen) << text;
    }
}

TEST(plan_test, lane_packing_puts_channels_in_lanes) {
  const kernel_plan p = plan_of("Conv1d(20, 20, 3, stride=2, groups=20)", isa::avx512);  // 2 blocks, 12 lanes of the second unused
  ASSERT_EQ(p.lane_blocks(), 2);
  std::vector<float> w(60);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i + 1);
  const std::vector<float> packed = p.pack_weights(w.data());
  ASSERT_EQ(packed.size(), std::size_t(p.lane_weight_offset(2)));
  for (std::int64_t block = 0; block < 2; ++block)
    for (std::int64_t k = 0; k < 3; ++k)
      for (std::int64_t lane = 0; lane < 16; ++lane) {
        const std::int64_t c = block * 16 + lane;
        EXPECT_EQ(packed[std::size_t(p.lane_weight_offset(block) + k * 16 + lane)], c < 20 ? w[std::size_t(c * 3 + k)] : 0.0f);
      }
}

TEST(plan_test, short_outputs_take_the_dot_tile) {
  for (isa target : {isa::scalar, isa::avx2, isa::avx512}) {
    const kernel_plan depthwise = plan_of("Conv1d(5, 5, 49, groups=5, bias=False)", target);
    EXPECT_TRUE(depthwise.use_dot_tile(1));
    EXPECT_FALSE(depthwise.use_dot_tile(1000));
    const kernel_plan pointwise = plan_of("Conv1d(100, 100, 1)", target);
    EXPECT_TRUE(pointwise.use_dot_tile(1));
    EXPECT_FALSE(pointwise.use_dot_tile(64));
    const kernel_plan small = plan_of("Conv1d(5, 5, 3)", target);  // 15 floats a column: positions win at 47
    EXPECT_FALSE(small.use_dot_tile(47));
  }
  // A long reduction is padded to whole steps; weights too large to copy
  // twice have no dot tile.
  const kernel_plan long_reduction = plan_of("Conv1d(512, 512, 3, stride=2)", isa::avx512);
  EXPECT_TRUE(long_reduction.use_dot_tile(3));
  EXPECT_EQ(long_reduction.dot_length, 1536);
  EXPECT_EQ(plan_of("Conv1d(520, 8, 3)", isa::avx512).dot_length, 1600);    // 98 vectors: 100
  EXPECT_EQ(plan_of("Conv1d(520, 512, 3)", isa::avx512).dot_length, 1560);  // rows in lanes: none padded
  EXPECT_EQ(plan_of("Conv1d(4096, 4096, 3)", isa::avx512).dot_rows, 0);
  EXPECT_EQ(plan_of("Conv1d(1, 1, 300000)", isa::avx512).dot_rows, 0);  // a 1.2 MB column
}

TEST(plan_test, is_deterministic) {
  for (const char* text : kSpecs) {
    const kernel_plan a = plan_of(text, isa::avx512), b = plan_of(text, isa::avx512);
    EXPECT_EQ(a.describe(), b.describe());
    EXPECT_EQ(a.name(), b.name());
  }
}

TEST(plan_test, weights_beyond_l2_are_reused_over_tile_groups) {
  constexpr int group = 4;
  EXPECT_EQ(plan_of("Conv1d(512, 512, 3, stride=2)", isa::avx512).tile_group, group);   // 3 MiB of weights
  EXPECT_EQ(plan_of("Conv1d(512, 512, 3, stride=2)", isa::avx2).tile_group, group);
  EXPECT_EQ(plan_of("Conv1d(1024, 1024, 3, groups=2)", isa::avx512).tile_group, group);  // 3 MiB a group
  EXPECT_EQ(plan_of("Conv1d(256, 512, 1)", isa::avx512).tile_group, 1);                  // 512 KiB stay in L2
  EXPECT_EQ(plan_of("Conv1d(512, 512, 3, groups=4)", isa::avx512).tile_group, 1);        // 768 KiB a group
  // A depthwise layer's group is a row of tiles, on position tiles only.
  EXPECT_EQ(plan_of("Conv1d(512, 512, 15, padding=7, groups=512)", isa::avx512).tile_group, 64);
  EXPECT_EQ(plan_of("Conv1d(512, 512, 15, padding=7, groups=512)", isa::avx2).tile_group, 1);  // lane tiles
}

// Output-bound layers (a reduction of at most 32) write each block's rows over
// many tiles, the group's windows within 512 KiB.
TEST(plan_test, short_reductions_write_rows_in_long_runs) {
  for (isa target : {isa::avx512, isa::avx2}) {
    const kernel_plan conv0 = plan_of("Conv1d(1, 512, 10, stride=5, bias=False)", target);
    EXPECT_EQ(conv0.tile_group, 64);
    const kernel_plan stereo = plan_of("Conv1d(2, 16, 7, padding=3)", target);
    EXPECT_EQ(stereo.tile_group, stereo.oc_block < 16 ? 64 : 1);
    const kernel_plan wide = plan_of("Conv1d(32, 64, 1, stride=1)", target);  // reduction 32: still short
    EXPECT_GT(wide.tile_group, 1);
    const std::int64_t window_bytes = wide.ic_block * wide.window_row_floats() * 4;
    EXPECT_LE(wide.tile_group * window_bytes, 512 * 1024);
    EXPECT_EQ(plan_of("Conv1d(33, 64, 1)", target).tile_group, 1);  // reduction 33
    EXPECT_EQ(plan_of("Conv1d(5, 5, 3)", target).tile_group, 1);    // one block of rows: nothing to sweep
  }
}

// An edge variant's ops that reach into the padding take each lane from the
// position the padding mode names (source_position), read in the row, or
// zero; the rest of its ops read the row in place. Lanes past the call's
// span, which no output reads, are zero. A left call's src is the row's
// start, a right call's the first position of its span, ending at L_in +
// pad_right; src_wrap is +L_in and -L_in. Sliding depthwise plans (AVX-512)
// and dense plans of stride 1 (every ISA) have edge variants.
TEST(plan_test, edge_lanes_apply_the_padding_mode) {
  using from = lane_source::from;
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"})
    for (const char* shape : {"Conv1d(8, 8, 15, padding=7, groups=8, padding_mode='{}')",
                              "Conv1d(3, 3, 31, padding=30, groups=3, padding_mode='{}')",
                              "Conv1d(2, 2, 5, padding=(2), dilation=9, groups=2, padding_mode='{}')",
                              "Conv1d(4, 20, 3, padding=1, padding_mode='{}')",
                              "Conv1d(6, 1, 7, padding=5, dilation=2, padding_mode='{}')",
                              "Conv1d(4, 6, 4, padding=3, groups=2, padding_mode='{}')"})
      for (isa target : {isa::avx512, isa::avx2, isa::scalar}) {
        std::string text = shape;
        text.replace(text.find("{}"), 2, mode);
        const kernel_plan p = plan_of(text.c_str(), target);
        ASSERT_EQ(p.edge_tiles, !p.depthwise || target == isa::avx512) << text;
        if (!p.edge_tiles) continue;
        int edge_ops = 0;
        for (const auto& v : p.variants()) {
          if (v.edge == row_edge::none) continue;
          const std::int64_t span = std::int64_t(v.ur) * p.vlen + p.taps.back().offset;
          const std::int64_t length = 2 * span + 3;  // the two ends apart
          const bool left = v.edge == row_edge::left;
          const std::int64_t src = left ? 0 : length + p.spec.pad_right() - span, wrap = left ? length : -length;
          const std::int64_t span_first = left ? -p.spec.pad_left() : src;  // padded positions the call reads
          for (const auto& op : p.channel_step(v)) {
            if (op.what != kernel_plan::step_op::kind::load_src && op.what != kernel_plan::step_op::kind::fma_from_memory)
              continue;
            const std::vector<lane_source> lanes = p.edge_lanes(v, op.offset);
            bool plain = true;
            for (int l = 0; l < p.vlen; ++l) {
              const lane_source& lane = lanes[std::size_t(l)];
              const std::int64_t position = src + op.offset + l;
              SCOPED_TRACE(text + " " + v.name() + " lane " + std::to_string(l) + " at " + std::to_string(position));
              if (position >= span_first + span) {
                EXPECT_EQ(lane.where, from::zero);
                plain = false;
                continue;
              }
              const std::int64_t expected = source_position(p.spec.mode, position, length);
              plain = plain && position >= 0 && position < length;
              if (expected < 0) {
                EXPECT_EQ(lane.where, from::zero);
                continue;
              }
              ASSERT_NE(lane.where, from::zero);
              EXPECT_EQ(src + (lane.where == from::wrapped ? wrap : 0) + lane.offset, expected);
            }
            EXPECT_EQ(op.edge, !plain) << text << " " << v.name() << " at " << op.offset;
            edge_ops += op.edge;
          }
        }
        EXPECT_GT(edge_ops, 0) << text;
      }
  // Unpadded or strided plans have no edge variants.
  EXPECT_FALSE(plan_of("Conv1d(5, 5, 49, groups=5, bias=False)", isa::avx512).edge_tiles);
  EXPECT_FALSE(plan_of("Conv1d(5, 8, 3)", isa::avx512).edge_tiles);
  EXPECT_FALSE(plan_of("Conv1d(5, 8, 3, stride=2, padding=1)", isa::avx512).edge_tiles);
}

// Whole tiles with tap-segment windows and zero padding leave out the taps
// that read only padding: up to as many as tile 0's first taps (left), and
// as the last whole tile's last taps for any input length (right), fewer
// than K; each such variant computes the other taps, no others; and each
// whole tile leaves out only taps that read padding.
TEST(plan_test, padding_taps_left_out_read_only_padding) {
  using kind = kernel_plan::step_op::kind;
  for (const char* text : {"Conv1d(128, 128, 3, padding=512, dilation=512)", "Conv1d(8, 12, 9, padding=640, dilation=100)",
                           "Conv1d(3, 2, 2, stride=3, padding=60, dilation=60)", "Conv1d(6, 9, 4, padding='same', dilation=101)",
                           "Conv1d(12, 20, 3, padding=20, dilation=200)"})
    for (isa target : {isa::avx512, isa::avx2, isa::scalar}) {
      SCOPED_TRACE(std::string(text) + " on " + std::string(isa_name(target)));
      const kernel_plan p = plan_of(text, target);
      ASSERT_TRUE(p.compact_windows);
      const conv1d_spec& s = p.spec;
      const std::int64_t w = p.tile_width(), k_size = s.kernel_size;
      int left = 0, right = 0;
      while (left + 1 < k_size && (w - 1) * s.stride + left * s.dilation - s.pad_left() < 0) ++left;
      for (std::int64_t l_in = 1; l_in < 4 * s.receptive_field(); ++l_in) {
        const std::int64_t padded = l_in + s.pad_left() + s.pad_right();
        if (padded < s.receptive_field() || (padded - s.receptive_field()) / s.stride + 1 < w) continue;
        const std::int64_t l_out = (padded - s.receptive_field()) / s.stride + 1;
        const std::int64_t first = (l_out / w - 1) * w * s.stride - s.pad_left();  // the last whole tile's window
        int skipped = 0;
        while (skipped + 1 < k_size && first + (k_size - 1 - skipped) * s.dilation >= l_in) ++skipped;
        right = std::max(right, skipped);
        // Every whole tile's skipped taps read only padding, and a tile with
        // padding taps at an end that has variants skips some.
        for (std::int64_t tile = 0; tile < l_out / w; ++tile) {
          const std::int64_t start = p.window_first(tile), last_read = start + (w - 1) * s.stride;
          const kernel_plan::skipped_taps skips = p.padding_taps_of(tile, l_in);
          ASSERT_TRUE(skips.first == 0 || skips.last == 0);
          for (int k = 0; k < skips.first; ++k) {
            ASSERT_LT(last_read + k * s.dilation, 0) << "tile " << tile << " of L " << l_in;
          }
          for (int b = 1; b <= skips.last; ++b) {
            ASSERT_GE(start + (k_size - b) * s.dilation, l_in) << "tile " << tile << " of L " << l_in;
          }
          const bool left_padding_tap = last_read < 0 && p.padding_taps_left > 0;
          const bool right_padding_tap = start + (k_size - 1) * s.dilation >= l_in && p.padding_taps_right > 0;
          if (left_padding_tap || right_padding_tap) {
            ASSERT_GT(skips.first + skips.last, 0) << "tile " << tile;
          }
        }
      }
      EXPECT_EQ(p.padding_taps_left, left);
      EXPECT_EQ(p.padding_taps_right, right);
      int skipping = 0;
      const std::vector<kernel_plan::variant> variants = p.variants();
      for (const auto& v : variants) {
        if (v.skip_first + v.skip_last == 0) continue;
        ++skipping;
        EXPECT_TRUE(v.compact && v.ur == p.ur_w && v.skip_first * v.skip_last == 0) << v.name();
        EXPECT_EQ(p.skipping_variant_index(v.skip_first ? row_edge::left : row_edge::right, v.rows,
                                           std::max(v.skip_first, v.skip_last)),
                  &v - variants.data())
            << v.name();
        std::set<std::int64_t> offsets;  // the taps' segments read
        for (const auto& op : p.channel_step(v))
          if (op.what == kind::load_src || op.what == kind::fma_from_memory) offsets.insert(op.offset / w);
        std::set<std::int64_t> expected;
        for (std::int64_t k = v.skip_first; k < k_size - v.skip_last; ++k) expected.insert(k);
        EXPECT_EQ(offsets, expected) << v.name();
      }
      const int per_block = int(kernel_plan::piece_counts(left).size() + kernel_plan::piece_counts(right).size());
      EXPECT_EQ(skipping, per_block * (p.oc_tail > 0 ? 2 : 1));
    }
  // Other padding modes read values, not zeros; narrow padding leaves every tap a tile's input.
  EXPECT_EQ(plan_of("Conv1d(128, 128, 3, padding=512, dilation=512, padding_mode='reflect')", isa::avx512).padding_taps_left, 0);
  EXPECT_EQ(plan_of("Conv1d(128, 128, 3, padding=32, dilation=32)", isa::avx512).padding_taps_left, 0);
}

// The sliding depthwise tile (stride 1, AVX-512): its whole input vectors
// loaded first, once each, never past the tile's reach; then each (position,
// tap) FMA once, reading its tap's input from those registers (itself, or a
// pair shifted) or from memory, about as many of either.
TEST(plan_test, slide_step_covers_every_position_and_tap) {
  using kind = kernel_plan::step_op::kind;
  for (const char* text : {"Conv1d(256, 256, 31, padding=15, groups=256)", "Conv1d(512, 512, 15, padding=7, groups=512)",
                           "Conv1d(5, 5, 49, groups=5, bias=False)", "Conv1d(4, 4, 1, groups=4)",
                           "Conv1d(6, 6, 17, dilation=2, groups=6, padding_mode='reflect', padding=16)",
                           "Conv1d(3, 3, 3, dilation=16, groups=3)", "Conv1d(2, 2, 64, groups=2)"}) {
    const kernel_plan p = plan_of(text, isa::avx512);
    ASSERT_TRUE(p.slide_src) << text;
    EXPECT_EQ(p.lane_ur, 0) << text;
    EXPECT_GE(p.ur_w, 8) << text;
    EXPECT_FALSE(plan_of(text, isa::avx2).slide_src) << text;  // no valignd
    for (const auto& v : p.variants()) {
      if (v.dot || v.columns || v.compact) continue;
      const std::int64_t reach = std::int64_t(v.ur - 1) * p.vlen + p.taps.back().offset + p.vlen;  // floats the tile reads
      const std::int64_t from_row_start = v.edge == row_edge::left ? -p.spec.pad_left() : 0;  // a left edge's src
      std::set<int> loaded;
      std::vector<int> fmas(std::size_t(v.ur * p.spec.kernel_size), 0);
      int tap = -1, shifted = 0, chosen_from_memory = 0;
      for (const auto& op : p.channel_step(v)) {
        switch (op.what) {
          case kind::load_src:
            EXPECT_EQ(tap, -1) << text << ": sources load before the taps";
            EXPECT_EQ(op.phase, 0);
            EXPECT_EQ(op.offset - from_row_start, std::int64_t(op.j) * p.vlen) << text;
            EXPECT_LE(op.offset - from_row_start + p.vlen, reach) << text;
            EXPECT_LT(op.j, p.slide_sources(v.ur)) << text;
            EXPECT_TRUE(loaded.insert(op.j).second) << text;
            break;
          case kind::broadcast_weight: tap = op.weight; break;
          case kind::fma_shifted:
          case kind::fma_from_memory: {
            ASSERT_GE(tap, 0) << text;
            EXPECT_EQ(op.phase, 0);
            EXPECT_EQ(op.offset - from_row_start, p.taps[std::size_t(tap)].offset + std::int64_t(op.j) * p.vlen) << text;
            if (op.what == kind::fma_shifted) {
              EXPECT_EQ(std::int64_t(op.src) * p.vlen + op.shift, op.offset - from_row_start) << text;
              EXPECT_TRUE(loaded.count(op.src)) << text;
              if (op.shift != 0) {
                EXPECT_TRUE(loaded.count(op.src + 1)) << text;
              }
              shifted += op.shift != 0;
            } else if ((op.offset - from_row_start) / p.vlen + 1 < p.slide_sources(v.ur)) {
              ++chosen_from_memory;  // not past the last pair, so shifting was possible
            }
            EXPECT_EQ(op.sum, tap % v.sums);
            ++fmas[std::size_t(tap * v.ur + op.j)];
            break;
          }
          default: ADD_FAILURE() << text << ": a sliding tile loads sources, broadcasts weights and FMAs"; break;
        }
      }
      for (int count : fmas) EXPECT_EQ(count, 1) << text;
      // Of the vectors between two sources, two shifted to one from memory
      // (the count's remainder aside).
      if (v.ur >= 8 && p.spec.kernel_size > 2 && p.spec.dilation % p.vlen != 0) {
        EXPECT_GT(shifted, 0) << text;
        EXPECT_GT(chosen_from_memory, 0) << text;
        EXPECT_LE(std::abs(shifted - 2 * chosen_from_memory), 2) << text << " " << v.name();
      }
    }
  }
  // Strided depthwise layers keep the channel-lane tile.
  EXPECT_FALSE(plan_of("Conv1d(64, 64, 5, stride=2, groups=64)", isa::avx512).slide_src);
}

TEST(plan_test, depthwise_is_its_own_strategy) {
  const kernel_plan dw = plan_of("Conv1d(256, 256, 31, padding=15, groups=256)", isa::avx512);
  EXPECT_TRUE(dw.depthwise);
  EXPECT_EQ(dw.oc_block, 1);
  EXPECT_FALSE(dw.src_in_registers);
  EXPECT_GE(dw.ur_w, 8);  // enough accumulators for the FMA latency
  const kernel_plan multiplier = plan_of("Conv1d(8, 16, 3, groups=8)", isa::avx512);
  EXPECT_FALSE(multiplier.depthwise);  // two outputs share each input: a (tiny) dense tile
}

TEST(plan_test, stride_becomes_phases) {
  const kernel_plan p = plan_of("Conv1d(3, 7, 5, stride=3, dilation=2)", isa::avx512);
  // taps at 0, 2, 4, 6, 8 -> phases 0, 2, 1, 0, 2 at offsets 0, 0, 1, 2, 2
  const std::vector<std::pair<int, std::int64_t>> expected = {{0, 0}, {2, 0}, {1, 1}, {0, 2}, {2, 2}};
  ASSERT_EQ(p.taps.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(p.taps[k].phase, expected[k].first) << k;
    EXPECT_EQ(p.taps[k].offset, expected[k].second) << k;
  }
  EXPECT_EQ(p.phases_used, (std::vector<int>{0, 1, 2}));
}

// The driver's decomposition: tiles of tile_width() from 0, the last one partial.
TEST(plan_test, tiles_write_every_output_exactly_once) {
  std::mt19937 rng(3);
  for (const char* text : kSpecs)
    for (isa target : {isa::avx2, isa::avx512}) {
      const kernel_plan p = plan_of(text, target);
      for (int trial = 0; trial < 20; ++trial) {
        const std::int64_t l_in = p.spec.receptive_field() + std::int64_t(rng() % 300);
        const std::int64_t l_out = output_dims(p.spec, std::vector<std::int64_t>{p.spec.in_channels, l_in})[1];
        std::vector<int> written(static_cast<std::size_t>(l_out), 0);
        for (std::int64_t t = 0; t < p.tile_count(l_out); ++t) {
          const std::int64_t first = t * p.tile_width();
          const std::int64_t valid = std::min<std::int64_t>(p.tile_width(), l_out - first);
          ASSERT_GT(valid, 0);
          for (std::int64_t i = 0; i < valid; ++i) ++written[static_cast<std::size_t>(first + i)];
          if (p.tile_in_place(t, l_in, l_out)) {  // reads only real input, never the padding
            EXPECT_EQ(valid, p.tile_width());
            EXPECT_GE(first - p.spec.pad_left(), 0);
            EXPECT_LT(first + p.tile_width() - 1 + (p.spec.kernel_size - 1) * p.spec.dilation - p.spec.pad_left(), l_in);
          }
        }
        for (int w : written) ASSERT_EQ(w, 1) << text << " l_in " << l_in;
      }
    }
}

TEST(plan_test, windows_hold_every_tap_of_the_tile) {
  for (const char* text : kSpecs) {
    const kernel_plan p = plan_of(text, isa::avx512);
    for (const tap_source& tap : p.taps) {
      EXPECT_LT(tap.phase, p.spec.stride);
      EXPECT_LE(tap.offset + p.tile_width(), p.window_phase_length()) << text;
    }
  }
}

TEST(plan_test, packing_puts_block_rows_fastest) {
  const kernel_plan p = plan_of("Conv1d(6, 10, 7, stride=3, padding=4, groups=2)", isa::avx512);
  std::vector<float> w(static_cast<std::size_t>(p.spec.weight_count()));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i);
  const auto packed = p.pack_weights(w.data());
  const std::int64_t cin_g = 3, k_size = 7;
  for (std::int64_t g = 0; g < 2; ++g)
    for (int b = 0; b < p.blocks_per_group(); ++b)
      for (int o = 0; o < p.block_rows(b); ++o)
        for (std::int64_t c = 0; c < cin_g; ++c)
          for (std::int64_t k = 0; k < k_size; ++k) {
            const std::int64_t channel = g * 5 + std::int64_t(b) * p.oc_block + o;
            EXPECT_EQ(packed[std::size_t(p.weight_block_offset(g, b) + (c * k_size + k) * p.block_rows(b) + o)],
                      w[std::size_t((channel * cin_g + c) * k_size + k)]);
          }
  // Then the dot tile's rows: the weight row, zero-padded to dot_length.
  ASSERT_GT(p.dot_rows, 0);
  ASSERT_EQ(packed.size(), std::size_t(p.dot_weight_offset(2, 0) + (p.column_ur > 0 ? p.vlen : 0)));
  for (std::int64_t g = 0; g < 2; ++g)
    for (std::int64_t o = 0; o < 5; ++o)
      for (std::int64_t i = 0; i < p.dot_length; ++i)
        EXPECT_EQ(packed[std::size_t(p.dot_weight_offset(g, o) + i)],
                  i < cin_g * k_size ? w[std::size_t((g * 5 + o) * cin_g * k_size + i)] : 0.0f);
}

// Rows in lanes: per group, per block of dot_rows, [reduction][rows rounded
// up to vectors], zeros in the rounding.
TEST(plan_test, packing_puts_dot_rows_in_lanes) {
  const kernel_plan p = plan_of("Conv1d(6, 200, 3, groups=2)", isa::avx512);  // 100 rows a group: 64 and 36
  ASSERT_TRUE(p.dot_rows_in_lanes);
  ASSERT_EQ(p.dot_rows, 64);
  ASSERT_EQ(p.dot_tail, 36);
  std::vector<float> w(static_cast<std::size_t>(p.spec.weight_count()));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i + 1);
  const auto packed = p.pack_weights(w.data());
  const std::int64_t reduction = 9, cout_g = 100;
  ASSERT_EQ(p.dot_group_rows(), 112);
  ASSERT_EQ(packed.size(), std::size_t(p.dot_weight_offset(2, 0) + (p.column_ur > 0 ? p.vlen : 0)));
  for (std::int64_t g = 0; g < 2; ++g)
    for (std::int64_t first : {0, 64}) {
      const std::int64_t rows = first == 0 ? 64 : 36, width = first == 0 ? 64 : 48;
      for (std::int64_t r = 0; r < reduction; ++r)
        for (std::int64_t o = 0; o < width; ++o)
          EXPECT_EQ(packed[std::size_t(p.dot_weight_offset(g, first) + r * width + o)],
                    o < rows ? w[std::size_t((g * cout_g + first + o) * reduction + r)] : 0.0f)
              << g << " " << first << " " << r << " " << o;
    }
}

TEST(plan_test, declines_with_a_reason) {
  std::string why;
  EXPECT_FALSE(make_plan(parse_spec("Conv1d(4, 0, 3)"), isa::scalar, &why));
  EXPECT_NE(why.find("no output channels"), std::string::npos) << why;
  EXPECT_FALSE(make_plan(parse_spec("Conv1d(1, 1, 3, dilation=1000000000)"), isa::avx512, &why));
  EXPECT_NE(why.find("too wide"), std::string::npos) << why;
  EXPECT_FALSE(make_plan(parse_spec("Conv1d(1, 1, 9, stride=9, dilation=1)"), isa::avx512, &why));
  EXPECT_NE(why.find("phases"), std::string::npos) << why;
}

}  // namespace
}  // namespace convjit
