// SPDX-License-Identifier: MIT
// The planner: register tile, stride phases, weight layout, regions.
#include "generator/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace convjit {
namespace {

// General-purpose registers left for phase offsets after the kernel's own
// (args, src, weights, dst, strides, counter): see emit_xbyak.cc.
constexpr int kPhaseRegisters = 7;  // every phase of a stride up to 8
// Largest displacement a tap may need: x86 displacements are 32-bit.
constexpr std::int64_t kMaxDisplacementBytes = std::numeric_limits<std::int32_t>::max() / 2;

// Independent FMA chains that keep two FMA units of 4-cycle latency busy.
constexpr int kChainsInFlight = 8;
// Bytes a tile's input and a block's weights may take in one call before the
// input channels are split over calls, each after the first adding to the
// output again. Several times the 32-48 KiB of L1 the CPUs this targets have:
// L2 streams a call's input rows well, and the split's extra passes over the
// output cost more. Measured against 32 KiB on Zen 5 with 64 (conv1d_bench
// medians, five rounds alternating: whisper.conv2 11.2-12.4 ms instead of
// 12.1-13.8, wav2vec2.conv3 3.06-3.24 instead of 3.36-3.71,
// conformer.pointwise 1.17-1.27 instead of 1.21-1.43), then against 64 KiB on
// Zen 4 with 128 (`convjit bench`, three rounds alternating, GFLOP/s): tcn.d32
// 109-110 -> 111-113, tcn.d512 107-108 -> 109-111, wav2vec2.conv3 and conv6
// 108 -> 109.5-110.5, whisper.conv2 and wav2vec2.conv1 within noise. At 256
// wav2vec2.conv6, its channels whole, fell to 86.
constexpr std::int64_t kChannelBlockBytes = 128 * 1024;
// Weights beyond this share of L2 (2 MiB a core) leave it as a tile's input
// and output stream through, so kWeightReuseTiles tiles are grouped to reuse
// them (their input stays in L2 too). Smaller weights stay in L2 anyway;
// grouping them only moves the tiles' input from L1 to L2 (measured: a 512 KiB
// pointwise layer 8% slower grouped, the 3 MiB wav2vec2 layers 2-3% faster).
constexpr std::int64_t kL2WeightBytes = 1024 * 1024;
constexpr int kWeightReuseTiles = 4;
// A layer with a reduction this short is bound by writing its output. Tile by
// tile, it writes a few lines in each of C_out rows, more streams than the
// prefetchers follow, so every line's read-for-ownership waits on L3 or memory;
// instead each block of rows sweeps up to kOutputRunTiles tiles, long runs of
// few rows, whose windows (within kGroupWindowBytes) stay in L2 meanwhile.
// Measured on wav2vec2's first layer (reduction 10, 512 rows): 0.84 -> 0.44 ms;
// a 256-channel pointwise layer is 10% slower so, hence the short reduction.
constexpr std::int64_t kShortReduction = 32;
constexpr int kOutputRunTiles = 64;
constexpr std::int64_t kGroupWindowBytes = 512 * 1024;

// A sliding depthwise tile (slide_src) is wide enough for about this many
// FMAs a call, to spread the driver's work per call, up to kMaxSlideVectors
// vectors (as many as fit at K <= 32): convnext1d k15 ran 0.83-0.89 ms at 8
// vectors, 0.58-0.59 at 14; conformer k31 0.20-0.23 ms at 8, 0.20 at 14, with
// half the code to generate at 8.
constexpr int kSlideCallFmas = 200;
constexpr int kMaxSlideVectors = 14;
// A depthwise layer's tiles of a row run as one item, up to this many: the
// driver's work per item (finding the row, its windows' scratch) once a row,
// not once a tile (conformer k31 0.235 -> 0.199 ms, convnext1d k15 0.65 -> 0.60).
constexpr int kDepthwiseRowTiles = 64;

// Whole tiles with trailing columns are a variant per count, each as long
// as a whole tile's: up to 4 took the suite's median code generation from 54
// to 78 us, up to 2 to 67.
constexpr int kMaxTrailingColumns = 2;

// A dot tile's reduction up to this many vectors may be unrolled whole; a
// longer one is zero-padded to whole steps of kLongDotStepVectors.
constexpr std::int64_t kMaxDotVectors = 64;
constexpr int kLongDotStepVectors = 4;
// The dot tile's weights are a second copy: not for layers whose copy is
// larger; nor for a reduction whose columns (dot_ur per thread) are larger.
constexpr std::int64_t kMaxDotWeightBytes = 64 << 20;
constexpr std::int64_t kMaxDotColumnBytes = 1 << 20;
// FMAs a dot tile's step covers at least, when a step that short divides its
// reduction: a loop of such steps costs 4 instructions a step, and the code
// (generated per variant) stays a few steps long, not the whole reduction.
constexpr int kDotStepFmas = 32;
// A reduction with a partial last vector is read in place (dot_in_place) only
// by kernels that cover it in one step, the masked vector last: such a step
// may hold up to this many FMAs (seed.depthwise_k49: 16 columns x 4 vectors).
constexpr int kOneStepDotFmas = 128;
// Rows of a dot tile: its positions (up to 4 on AVX-512, 3 on AVX2) share each
// weight vector it loads. Measured against 8 rows by 2 positions (AVX-512,
// ratios to onednn-ncw, medians of 6 runs): Conv1d(512, 512, 3, padding=1) on
// 4 positions x0.53 -> x0.62, Conv1d(1024, 1024, 1) on 4 x0.52 -> x0.68.
constexpr int kDotRows = 4;
// A dot tile with rows in lanes (dot_rows_in_lanes): up to this many row
// vectors (AVX-512; 2 with 16 registers) by as many columns as the registers
// take, up to 8: 4 x 6 loads 4 weight vectors and broadcasts 6 floats per 24
// FMAs. A step covers up to kRowsInLanesUnroll floats of the reduction (a
// divisor of it): its loop costs 5 instructions a step, against 34 a float.
constexpr int kRowVectors = 4;
constexpr int kRowsInLanesColumns = 8;
constexpr int kRowsInLanesUnroll = 4;

// Partial-sum sets for a tile of `chains` accumulators: enough for
// kChainsInFlight chains, within `spare` registers and `steps` FMAs per chain.
int partial_sums(int chains, int spare, std::int64_t steps) {
  if (chains >= kChainsInFlight) return 1;
  const std::int64_t wanted = (kChainsInFlight + chains - 1) / chains;
  return int(std::max<std::int64_t>(1, std::min<std::int64_t>({wanted, spare / chains, steps})));
}

// Load cost per (input channel, tap) step of a tile: src vectors count
// double, weight broadcasts single. A src vector is a full, usually unaligned
// line from rows far apart (in-place rows alias in L1: 16000 floats apart they
// fall in 8 of its 64 sets) or from a window too large for L1; a broadcast is
// 4 bytes of a small packed block. Measured on the suite's dense layers, tiles
// with more output-channel rows (fewer src loads per FMA) win or tie.
double tile_step_loads(int oc, int ur) { return 2.0 * ur + oc; }

// Cycles per step on a core with two FMA ports, two vector-load ports and a
// front end of about five instructions per cycle.
double tile_step_cycles(int oc, int ur) {
  const double fmas = oc * ur, loads = tile_step_loads(oc, ur);
  return std::max({fmas / 2, loads / 2, (fmas + oc + ur) / 5});
}

}  // namespace

int kernel_plan::position_sums(int rows, int ur) const {
  // Spare accumulators: the columns ur..ur_w - 1 whole tiles use.
  return partial_sums(rows * ur, rows * ur_w, spec.kernel_size);
}

std::vector<kernel_plan::variant> kernel_plan::variants() const {
  // In-place tiles (stride 1) and phase windows share code; compact windows
  // need their own tap offsets.
  std::vector<bool> layouts;
  if (!compact_windows || spec.stride == 1) layouts.push_back(false);
  if (compact_windows) layouts.push_back(true);
  std::vector<variant> all;
  for (bool compact : layouts)
    for (int rows : {oc_block, oc_tail})
      if (rows > 0)
        for (int ur : position_urs()) {
          all.push_back(
              {rows, ur, compact, position_sums(rows, ur), false, false, false, ur_w, src_register(0), weight_register()});
          if (slide_src) all.back().shifted = weight_register() + 1;
        }
  const std::int64_t reduction = spec.in_channels_per_group() * spec.kernel_size;
  for (int rows : {dot_rows, dot_tail})
    if (rows > 0 && dot_rows_in_lanes)
      for (int ur : piece_counts(dot_ur)) {
        // The accumulators, the broadcast column, a weight register per row
        // vector; a step of up to kRowsInLanesUnroll floats of the reduction.
        const int row_vectors = (rows + vlen - 1) / vlen, accumulators = row_vectors * ur;
        int unroll = kRowsInLanesUnroll;
        while (reduction % unroll != 0) --unroll;
        all.push_back({rows, ur, false, 1, true, false, false, ur, accumulators, accumulators + 1, unroll});
        all.back().row_vectors = row_vectors;
      }
    else if (rows > 0)
      for (int ur : piece_counts(dot_ur)) {
        // After the weight and src(j), or, with the FMAs reading the columns,
        // the one register the emitters keep for a column's vector.
        const int spare = vector_registers(target) - 1 - (dot_columns_from_memory ? 1 : ur);
        const int vectors = int(dot_length / vlen);
        int sums = partial_sums(rows * ur, spare, vectors);
        // Vectors of the reduction a step covers: a multiple of the sums,
        // so that vector r adds into set r % sums in every step. A long
        // reduction steps by kLongDotStepVectors, its sums a divisor of that.
        int step_vectors = vectors;
        if (vectors > kMaxDotVectors) {
          while (kLongDotStepVectors % sums != 0) --sums;
          step_vectors = kLongDotStepVectors;
        } else if (reduction % vlen == 0 || vectors * rows * ur > kOneStepDotFmas) {
          for (int u = sums; u < vectors; u += sums)
            if (vectors % u == 0 && u * rows * ur >= kDotStepFmas) {
              step_vectors = u;
              break;
            }
        }
        const int accumulators = rows * ur * sums;
        // Registers: the accumulators, src(j) (or, columns from memory, one
        // the lane sum borrows), the weight.
        all.push_back({rows, ur, false, sums, true, false, false, ur * sums, accumulators,
                       accumulators + (dot_columns_from_memory ? 1 : ur), step_vectors});
      }
  if (lane_ur > 0) {
    // One row of lane_ur positions, the input from memory: registers are the
    // accumulators (and their partial sums) and the weight vector.
    const int sums = partial_sums(lane_ur, vector_registers(target) - 1 - lane_ur, spec.kernel_size);
    const int accumulators = lane_ur * sums;
    all.push_back({1, lane_ur, false, sums, false, true, false, accumulators, accumulators, accumulators});
  }
  // The column tile reads the last tile's window (never in place): compact
  // when the plan's windows are. Its ur chains are few: a step covers enough
  // input channels (a divisor of ic_block) for kChainsInFlight partial sums.
  // Registers: the accumulators, a broadcast input (AVX2 has no broadcast
  // memory operand), the weight vector.
  for (int rows : {oc_block, oc_tail})
    if (rows > 0)
      for (int ur : piece_counts(column_ur)) {
        int unroll = 1;
        while (ur * spec.kernel_size * unroll < kChainsInFlight && ic_block % (2 * unroll) == 0) unroll *= 2;
        const int sums = partial_sums(ur, vector_registers(target) - 2, spec.kernel_size * unroll);
        const int accumulators = ur * sums;
        all.push_back({rows, ur, compact_windows, sums, false, false, true, accumulators, accumulators,
                       accumulators + 1, unroll});
      }
  // Whole tiles with trailing columns: the position tile's registers, then an
  // accumulator a column.
  for (int rows : {oc_block, oc_tail})
    for (int columns = 1; rows > 0 && columns <= trailing_columns; ++columns) {
      all.push_back({rows, ur_w, false, position_sums(rows, ur_w), false, false, false, ur_w, src_register(0),
                     weight_register()});
      all.back().trailing = columns;
      all.back().first_trailing = vector_registers_used();
    }
  // Edge variants, per block: a position tile's registers (the one after
  // the weight builds an edge vector an FMA reads); the left one of ur_w
  // vectors, right ones of every count.
  for (int rows : {oc_block, oc_tail})
    for (const row_edge side : {row_edge::left, row_edge::right})
      for (int ur : side == row_edge::left ? std::vector<int>{ur_w} : position_urs()) {
        if (!edge_tiles || rows == 0) continue;
        all.push_back(
            {rows, ur, false, position_sums(rows, ur), false, false, false, ur_w, src_register(0), weight_register()});
        all.back().shifted = weight_register() + 1;
        if (!slide_src) all.back().edge_scratch = src_in_registers ? weight_register() : weight_register() + 2;
        all.back().edge = side;
      }
  // Whole compact tiles leaving out taps that read only padding, per block:
  // the position tile's registers.
  for (int rows : {oc_block, oc_tail})
    for (const row_edge side : {row_edge::left, row_edge::right})
      for (int skipped : piece_counts(side == row_edge::left ? padding_taps_left : padding_taps_right)) {
        if (rows == 0) continue;
        const int sums = partial_sums(rows * ur_w, rows * ur_w, spec.kernel_size - skipped);
        all.push_back({rows, ur_w, true, sums, false, false, false, ur_w, src_register(0), weight_register()});
        (side == row_edge::left ? all.back().skip_first : all.back().skip_last) = skipped;
      }
  return all;
}

std::string kernel_plan::variant::name() const {
  if (columns) return fmt::format("{}x{}_columns{}", rows, ur, compact ? "_compact" : "");
  if (trailing > 0) return fmt::format("{}x{}_trailing{}", rows, ur, trailing);
  if (edge != row_edge::none) return fmt::format("{}x{}_{}_edge", rows, ur, edge == row_edge::left ? "left" : "right");
  if (skip_first > 0) return fmt::format("{}x{}_compact_skip_first{}", rows, ur, skip_first);
  if (skip_last > 0) return fmt::format("{}x{}_compact_skip_last{}", rows, ur, skip_last);
  return fmt::format("{}x{}{}", rows, ur, compact ? "_compact" : dot ? "_dot" : lanes ? "_lanes" : "");
}

std::vector<int> kernel_plan::piece_counts(int widest) {
  std::vector<int> counts;
  for (int count = 1; count < widest; count *= 2) counts.push_back(count);
  if (widest > 0) counts.push_back(widest);
  return counts;
}

std::vector<int> kernel_plan::position_urs() const {
  if (lane_ur > 0) return {};
  if (tiles_in_pieces()) return piece_counts(ur_w);
  std::vector<int> urs;
  for (int ur = 1; ur <= ur_w; ++ur) urs.push_back(ur);
  return urs;
}

// variants() lists position tiles per layout (one or two) and block (full,
// tail), then the dot tiles, then the lane tile, then the column tiles.
// The driver looks variants up per call: no allocation here.
int kernel_plan::variant_index(int rows, int ur, bool compact, bool dot) const {
  const int per_block = lane_ur > 0 ? 0 : position_place(ur_w) + 1, per_layout = per_block * (oc_tail ? 2 : 1);
  const int position_variants = per_layout * ((!compact_windows || spec.stride == 1) + compact_windows);
  if (dot) return position_variants + (rows == dot_rows ? 0 : piece_place(dot_ur, dot_ur) + 1) + piece_place(dot_ur, ur);
  const int layout = compact && spec.stride == 1 ? 1 : 0;
  return layout * per_layout + (rows == oc_block ? 0 : per_block) + position_place(ur);
}

int kernel_plan::lane_variant_index() const {
  // After the last dot variant, or where the first would be.
  return dot_rows > 0 ? variant_index(dot_tail > 0 ? dot_tail : dot_rows, dot_ur, false, true) + 1
                      : variant_index(dot_rows, 1, false, true);
}

int kernel_plan::column_variant_index(int rows, int ur) const {
  const int first = lane_ur > 0 ? lane_variant_index() + 1 : lane_variant_index();
  return first + (rows == oc_block ? 0 : piece_place(column_ur, column_ur) + 1) + piece_place(column_ur, ur);
}

bool kernel_plan::use_dot_tile(std::int64_t l_out) const {
  if (dot_rows == 0) return false;
  if (dot_rows_in_lanes) {
    // Outputs shorter than a vector (longer ones fill position vectors, their
    // last few positions a column tile: wav2vec2.conv6's 49 outputs on rows
    // in lanes, scattered from a scratch, 247 -> 207 GFLOP/s). Vector FMAs
    // for a group's rows: a position vector does the reduction per row, rows
    // in lanes per row vector and position, plus a quarter for loading the
    // weights and placing the outputs.
    return l_out < vlen && 5 * l_out * (dot_group_rows() / vlen) < 4 * spec.out_channels_per_group();
  }
  // Vector FMAs per output channel: position vectors do the reduction once
  // per vector of positions; a dot tile once per position, plus a quarter for
  // loading both operands and copying its column, and sums the lanes
  // (log2(vlen) adds).
  const std::int64_t reduction = spec.in_channels_per_group() * spec.kernel_size;
  const std::int64_t by_positions = (l_out + vlen - 1) / vlen * reduction;
  int lane_sum = 1;
  for (int lanes = vlen; lanes > 1; lanes /= 2) ++lane_sum;
  const std::int64_t by_dots = l_out * (5 * dot_length / vlen / 4 + lane_sum);
  return by_dots < by_positions;
}

std::vector<kernel_plan::step_op> kernel_plan::channel_step(const variant& v) const {
  using kind = step_op::kind;
  std::vector<step_op> ops;
  if (v.row_vectors > 0) {
    // Per float r of the step's share of the reduction: the rows' weights
    // for it, a vector per row vector (rounded-up rows after rows), then
    // each column's float r, broadcast, times each of them.
    const int block_floats = v.row_vectors * vlen;
    for (int r = 0; r < v.channel_unroll; ++r) {
      for (int o = 0; o < v.row_vectors; ++o) ops.push_back({kind::load_weight, o, 0, 0, 0, r * block_floats + o * vlen});
      for (int j = 0; j < v.ur; ++j) {
        ops.push_back({kind::broadcast_column, 0, j, 0, r});
        for (int o = 0; o < v.row_vectors; ++o) ops.push_back({kind::fma_column, o, j});
      }
    }
    return ops;
  }
  if (v.dot) {
    // The step's share of the reduction, a vector at a time: column j is
    // src_stride floats after column j - 1 (the emitters address it), weight
    // row o dot_length after row o - 1. Columns read in place stop at the
    // reduction's end: its partial last vector is masked, and comes first
    // (step_op::lanes).
    // A wide tile (columns from memory) goes kChainsInFlight columns at a
    // time, so the first columns' lane sums overlap the later ones' loads.
    const std::int64_t reduction = spec.in_channels_per_group() * spec.kernel_size;
    const bool partial_last = dot_in_place && v.channel_unroll * vlen > reduction;
    for (int first = 0; first < v.ur; first += kChainsInFlight)
    for (std::int64_t i = 0; i < v.channel_unroll; ++i) {
      const std::int64_t r = partial_last ? (i + v.channel_unroll - 1) % v.channel_unroll : i;
      const int sum = int(r % v.sums);
      const std::int64_t past_end = (r + 1) * vlen - reduction;
      const int lanes = dot_in_place && past_end > 0 ? vlen - int(past_end) : 0;
      const int end = std::min(v.ur, first + kChainsInFlight);
      for (int j = first; j < end && !dot_columns_from_memory; ++j) {
        ops.push_back({kind::load_src, 0, j, 0, r * vlen, 0});
        ops.back().lanes = lanes;
      }
      for (int o = 0; o < v.rows; ++o) {
        ops.push_back({kind::load_weight, o, 0, 0, 0, int(o * dot_length + r * vlen)});
        for (int j = first; j < end; ++j) {
          if (!dot_columns_from_memory) {
            ops.push_back({kind::fma, o, j, 0, 0, 0, sum});
            continue;
          }
          ops.push_back({kind::fma_from_memory, o, j, 0, r * vlen, 0, sum});
          ops.back().lanes = lanes;
        }
      }
    }
    return ops;
  }
  if (v.columns) {
    // Tap k's weights for the block's rows, a vector (the lanes past rows
    // ignored), times each position's input, broadcast; channel u's taps add
    // into partial sums after channel u - 1's.
    for (int u = 0; u < v.channel_unroll; ++u)
      for (int k = 0; k < int(spec.kernel_size); ++k) {
        const int phase = v.compact ? 0 : taps[std::size_t(k)].phase;
        const std::int64_t offset = v.compact ? std::int64_t(k) * tile_width() : taps[std::size_t(k)].offset;
        const int sum = int((u * spec.kernel_size + k) % v.sums);
        ops.push_back({kind::load_weight, 0, 0, 0, 0, k * v.rows, 0, u});
        for (int j = 0; j < v.ur; ++j) ops.push_back({kind::fma_broadcast_src, 0, j, phase, offset + j, 0, sum, u});
      }
    return ops;
  }
  if (v.lanes) {
    // Position j's tap k: a whole vector (vlen channels) at window position
    // j * stride + k * dilation; tap k's weights: vlen floats at k * vlen.
    for (int k = 0; k < int(spec.kernel_size); ++k) {
      ops.push_back({kind::load_weight, 0, 0, 0, 0, k * vlen});
      for (int j = 0; j < v.ur; ++j)
        ops.push_back({kind::fma_from_memory, 0, j, 0, (j * spec.stride + k * spec.dilation) * vlen, 0, k % v.sums});
    }
    return ops;
  }
  if (slide_src && !v.compact) {
    // Every input vector the taps use, loaded first; then per tap its weight
    // and an FMA per vector, from src(m) itself, the pair src(m), src(m + 1)
    // shifted, or every third time (and past the last pair) from memory.
    const int sources = slide_sources(v.ur);
    std::vector<bool> used(std::size_t(sources) + 1, false);
    std::vector<step_op> taps_ops;
    int between = 0;
    for (int k = 0; k < int(spec.kernel_size); ++k) {
      taps_ops.push_back({kind::broadcast_weight, 0, 0, 0, 0, k});
      for (int j = 0; j < v.ur; ++j) {
        const std::int64_t offset = taps[std::size_t(k)].offset + std::int64_t(j) * vlen;
        const int m = int(offset / vlen), shift = int(offset % vlen);
        step_op op{kind::fma_from_memory, 0, j, 0, offset, 0, k % v.sums, 0, m, shift};
        if (shift == 0 || (m + 1 < sources && between++ % 3 != 2)) {
          op.what = kind::fma_shifted;
          used[std::size_t(m)] = true;
          used[std::size_t(m + 1)] = used[std::size_t(m + 1)] || shift != 0;
        }
        taps_ops.push_back(op);
      }
    }
    for (int m = 0; m < sources; ++m)
      if (used[std::size_t(m)]) ops.push_back({kind::load_src, 0, m, 0, std::int64_t(m) * vlen, 0});
    ops.insert(ops.end(), taps_ops.begin(), taps_ops.end());
    return edge_ops(v, std::move(ops));
  }
  for (int k = v.skip_first; k < int(spec.kernel_size) - v.skip_last; ++k) {
    // A compact window holds tap k's inputs at k * tile_width(): no phases.
    const int phase = v.compact ? 0 : taps[std::size_t(k)].phase;
    const std::int64_t offset = v.compact ? std::int64_t(k) * tile_width() : taps[std::size_t(k)].offset;
    if (src_in_registers)
      for (int j = 0; j < v.ur; ++j) ops.push_back({kind::load_src, 0, j, phase, offset + j * vlen, 0});
    for (int o = 0; o < v.rows; ++o) {
      // One vector: each weight feeds one FMA, which reads it from memory
      // itself (measured: a 16-position output of Conv1d(512, 512, 3,
      // stride=2) 0.31 -> 0.23 ms, as the compiler's code for it).
      if (src_in_registers && v.ur == 1) {
        ops.push_back({kind::fma_broadcast_weight, o, 0, 0, 0, k * v.rows + o, k % v.sums});
        continue;
      }
      ops.push_back({kind::broadcast_weight, o, 0, 0, 0, k * v.rows + o});
      for (int j = 0; j < v.ur; ++j)
        ops.push_back(src_in_registers ? step_op{kind::fma, o, j, 0, 0, 0, k % v.sums}
                                       : step_op{kind::fma_from_memory, o, j, phase, offset + j * vlen, 0, k % v.sums});
    }
    // Trailing columns, as a column tile computes them: the tap's weights for
    // the block's rows, a vector, times each column's input, broadcast.
    if (v.trailing > 0) ops.push_back({kind::load_weight, 0, 0, 0, 0, k * v.rows});
    for (int j = 0; j < v.trailing; ++j)
      ops.push_back({kind::fma_trailing, 0, j, phase, offset + std::int64_t(v.ur) * vlen + j, 0});
  }
  return edge_ops(v, std::move(ops));
}

std::vector<kernel_plan::step_op> kernel_plan::edge_ops(const variant& v, std::vector<step_op> ops) const {
  // An edge variant: the same ops, from the row's start on the left; those
  // whose vector reaches into the padding take theirs lane by lane.
  if (v.edge == row_edge::none) return ops;
  const std::int64_t from_row_start = v.edge == row_edge::left ? -spec.pad_left() : 0;
  for (step_op& op : ops) {
    op.offset += from_row_start;
    if (op.what != step_op::kind::load_src && op.what != step_op::kind::fma_from_memory) continue;
    const std::vector<lane_source> lanes = edge_lanes(v, op.offset);
    for (int l = 0; l < vlen; ++l)
      op.edge = op.edge || !(lanes[std::size_t(l)] == lane_source{lane_source::from::src, op.offset + l});
  }
  return ops;
}

int kernel_plan::blocks_per_group() const {
  return int(spec.out_channels_per_group() / oc_block) + (oc_tail ? 1 : 0);
}

std::int64_t kernel_plan::weight_block_offset(std::int64_t group, int block) const {
  const std::int64_t per_channel = spec.in_channels_per_group() * spec.kernel_size;
  return (group * spec.out_channels_per_group() + std::int64_t(block) * oc_block) * per_channel;
}

std::vector<float> kernel_plan::pack_weights(const float* weight) const {
  const std::int64_t cin_g = spec.in_channels_per_group(), k_size = spec.kernel_size;
  std::vector<float> packed(static_cast<std::size_t>(lane_weight_offset(lane_blocks()) + (column_ur > 0 ? vlen : 0)));
  for (std::int64_t c = 0; c < spec.out_channels && lane_ur > 0; ++c)  // depthwise: weight (C, 1, K)
    for (std::int64_t k = 0; k < k_size; ++k) packed[std::size_t(lane_weight_offset(c / vlen) + k * vlen + c % vlen)] = weight[c * k_size + k];
  const std::int64_t cout_g = spec.out_channels_per_group(), reduction = cin_g * k_size;
  for (std::int64_t o = 0; dot_rows > 0 && !dot_rows_in_lanes && o < spec.out_channels; ++o)
    std::copy(weight + o * reduction, weight + (o + 1) * reduction, packed.begin() + dot_weight_offset(0, o));
  for (std::int64_t g = 0; dot_rows_in_lanes && g < spec.groups; ++g)
    for (std::int64_t first = 0; first < cout_g; first += dot_rows) {  // a block: [reduction][rows rounded up]
      const std::int64_t rows = std::min<std::int64_t>(dot_rows, cout_g - first), width = (rows + vlen - 1) / vlen * vlen;
      float* block = packed.data() + dot_weight_offset(g, first);
      for (std::int64_t r = 0; r < reduction; ++r)
        for (std::int64_t o = 0; o < rows; ++o) block[r * width + o] = weight[(g * cout_g + first + o) * reduction + r];
    }
  for (std::int64_t g = 0; g < spec.groups; ++g)
    for (int b = 0; b < blocks_per_group(); ++b) {
      const int rows = block_rows(b);
      float* block = packed.data() + weight_block_offset(g, b);
      const std::int64_t first_channel = g * spec.out_channels_per_group() + std::int64_t(b) * oc_block;
      for (std::int64_t c = 0; c < cin_g; ++c)
        for (std::int64_t k = 0; k < k_size; ++k)
          for (int o = 0; o < rows; ++o)
            block[(c * k_size + k) * rows + o] = weight[((first_channel + o) * cin_g + c) * k_size + k];
    }
  return packed;
}

std::vector<lane_source> kernel_plan::edge_lanes(const variant& v, std::int64_t offset) const {
  // The call reads `span` padded positions: a left call from -pad_left, with
  // src at position 0, so `at` floats from src is position `at`; a right
  // call up to L_in + pad_right, with src at its first position, so the row
  // ends (position L_in) at row_end = span - pad_right floats from src. Either
  // way the padding's source is a constant offset from src (reflect,
  // replicate), from src + wrap (circular: +L_in on the left, -L_in on the
  // right), or none (zeros).
  using from = lane_source::from;
  const std::int64_t span = std::int64_t(v.ur) * vlen + taps.back().offset;
  const std::int64_t pad_left = spec.pad_left(), pad_right = spec.pad_right();
  const bool left = v.edge == row_edge::left;
  const std::int64_t first = left ? -pad_left : 0;  // the span's first position, in floats from src
  const std::int64_t row_end = span - pad_right;    // on the right: L_in, in floats from src
  std::vector<lane_source> lanes(static_cast<std::size_t>(vlen));
  for (int l = 0; l < vlen; ++l) {
    const std::int64_t at = offset + l;
    lane_source& lane = lanes[std::size_t(l)];
    if (at - first >= span) continue;  // past the taps' reach: read by no output
    const bool padding = left ? at < 0 : at >= row_end;
    if (!padding) {
      lane = {from::src, at};
      continue;
    }
    switch (spec.mode) {
      case padding_mode::zeros: break;
      case padding_mode::replicate: lane = {from::src, left ? 0 : row_end - 1}; break;
      case padding_mode::reflect: lane = {from::src, left ? -at : 2 * (row_end - 1) - at}; break;
      case padding_mode::circular: lane = {from::wrapped, at}; break;
    }
  }
  return lanes;
}

kernel_plan::tile_range kernel_plan::in_place_tiles(std::int64_t l_in, std::int64_t l_out) const {
  // Tile t is in place when its outputs are all valid (t * w + w <= L_out),
  // its first tap is past the left padding (t * w >= pad_left) and its last tap
  // before the right one (t * w + w - 1 + (K - 1) * dilation - pad_left < L_in).
  if (spec.stride != 1) return {0, 0};
  const std::int64_t w = tile_width(), pad = spec.pad_left();
  const std::int64_t room = l_in + pad - w - (spec.kernel_size - 1) * spec.dilation;  // t * w <= room
  if (room < 0) return {0, 0};
  const std::int64_t first = (pad + w - 1) / w, end = std::min(l_out / w, room / w + 1);
  return {first, std::max(first, end)};
}

kernel_plan::skipped_taps kernel_plan::padding_taps_of(std::int64_t tile, std::int64_t l_in) const {
  if (padding_taps_left + padding_taps_right == 0) return {};
  const std::int64_t first = window_first(tile);
  const std::int64_t before = -(first + (tile_width() - 1) * spec.stride);           // tap k: k * dilation < before
  const std::int64_t past = first + (spec.kernel_size - 1) * spec.dilation - l_in;  // tap K - b: (b - 1) * dilation <= past
  const int left = before > 0 ? int(std::min<std::int64_t>((before - 1) / spec.dilation + 1, padding_taps_left)) : 0;
  const int right = past >= 0 ? int(std::min<std::int64_t>(past / spec.dilation + 1, padding_taps_right)) : 0;
  if (right > left) return {0, piece_for(padding_taps_right, right)};
  return {left > 0 ? piece_for(padding_taps_left, left) : 0, 0};
}

std::int64_t kernel_plan::window_phase_length() const {
  return tile_width() + (spec.kernel_size - 1) * spec.dilation / spec.stride;
}

std::string kernel_plan::describe() const {
  return fmt::format("{} {}: tile {} oc x {}x{} positions{}{}{}{}{}{}, {}, {} of {} vector registers{}{}{}{}",
                     isa_name(target), depthwise ? "depthwise" : "dense", oc_block, ur_w, vlen,
                     oc_tail ? fmt::format(" (oc tail {})", oc_tail) : "",
                     splits_channels() ? fmt::format(", {} input channels a call", ic_block) : "",
                     tile_group == 1 ? ""
                     : depthwise     ? fmt::format(", up to {} tiles of a row at a time", tile_group)
                                     : fmt::format(", {} tiles a pass over the weights", tile_group),
                     stream_stores ? ", outputs beyond the caches stored past them" : "",
                     src_in_registers ? "" : slide_src ? ", src sliding through registers" : ", src from memory",
                     edge_tiles ? ", edge tiles padding in place" : "",
                     compact_windows ? fmt::format("tap-segment windows{}",
                                                   padding_taps_left + padding_taps_right == 0 ? ""
                                                   : fmt::format(" (padding taps left out: up to {} first, {} last)",
                                                                 padding_taps_left, padding_taps_right))
                                     : fmt::format("{} phase{}", spec.stride, spec.stride == 1 ? "" : "s"),
                     vector_registers_used(), vector_registers(target),
                     dot_rows ? fmt::format("; short outputs: dot tile {} oc x {} positions of {} floats{}{}{}{}", dot_rows,
                                            dot_ur, dot_length, dot_rows_in_lanes ? ", rows in lanes" : "",
                                            dot_in_place ? ", columns in place" : "",
                                            dot_columns_from_memory ? ", columns from memory" : "",
                                            dot_rows_outer ? ", rows outer" : "")
                              : "",
                     lane_ur ? fmt::format("; channel lanes: {} channels x {} positions", vlen, lane_ur) : "",
                     column_ur ? fmt::format("; last positions: column tile of up to {}", column_ur) : "",
                     trailing_columns ? fmt::format(", or up to {} after a whole tile", trailing_columns) : "");
}

std::string kernel_plan::name() const {
  const conv1d_spec& s = spec;
  std::string padding = s.pad_left() == s.pad_right() ? fmt::format("p{}", s.pad_left())
                                                      : fmt::format("p{}_{}", s.pad_left(), s.pad_right());
  return fmt::format("convjit_f32_ic{}oc{}k{}s{}{}d{}g{}{}{}_{}_oc{}x{}", s.in_channels, s.out_channels,
                     s.kernel_size, s.stride, padding, s.dilation, s.groups, s.bias ? "" : "_nobias",
                     s.mode == padding_mode::zeros ? std::string() : fmt::format("_{}", padding_mode_name(s.mode)),
                     isa_name(target), oc_block, ur_w);
}

std::optional<kernel_plan> make_plan(const conv1d_spec& spec, isa target, std::string* why_not) {
  auto decline = [&](std::string why) -> std::optional<kernel_plan> {
    if (why_not) *why_not = std::move(why);
    return std::nullopt;
  };
  if (spec.out_channels == 0) return decline("no output channels: nothing to generate");

  kernel_plan plan;
  plan.spec = spec;
  plan.target = target;
  plan.vlen = vector_floats(target);
  const std::int64_t cin_g = spec.in_channels_per_group(), cout_g = spec.out_channels_per_group();
  plan.depthwise = cin_g == 1 && cout_g == 1;

  for (std::int64_t k = 0; k < spec.kernel_size; ++k) {
    const std::int64_t at = k * spec.dilation;
    plan.taps.push_back({int(at % spec.stride), at / spec.stride});
    if (std::find(plan.phases_used.begin(), plan.phases_used.end(), plan.taps.back().phase) == plan.phases_used.end())
      plan.phases_used.push_back(plan.taps.back().phase);
  }
  std::sort(plan.phases_used.begin(), plan.phases_used.end());
  if (plan.nonzero_phases() > kPhaseRegisters)
    return decline(fmt::format("the taps read {} stride phases; the kernel has registers for {}", plan.nonzero_phases(),
                               kPhaseRegisters + 1));

  const int registers = vector_registers(target);
  if (plan.depthwise) {
    // One channel, a long run: the input is read once per FMA anyway, so it
    // stays in memory operands and the registers go to accumulators, enough
    // to cover the FMA latency on both ports.
    plan.oc_block = 1;
    plan.ur_w = target == isa::avx512 ? 8 : 6;
    plan.src_in_registers = false;
    // Stride 1 on AVX-512: the input slides through registers (slide_src),
    // a tile of kSlideCallFmas, at least 8 vectors (the FMA latency), its
    // accumulators, sources, weight and shifted input within the registers.
    const int reach = int(plan.taps.back().offset / plan.vlen);
    const int wanted = int(std::clamp<std::int64_t>((kSlideCallFmas + spec.kernel_size - 1) / spec.kernel_size,
                                                    kChainsInFlight, kMaxSlideVectors));
    const int slide_ur = std::min(wanted, (registers - 2 - reach) / 2);
    if (target == isa::avx512 && spec.stride == 1 && slide_ur >= kChainsInFlight) {
      plan.slide_src = true;
      plan.ur_w = slide_ur;
      plan.edge_tiles = spec.pad_left() > 0 || spec.pad_right() > 0;
    }
    // Channel lanes when the channels fill at least half of the lanes they
    // take: a tile of vlen positions, as the driver transposes square blocks
    // in registers (AVX and AVX-512; portable transposes cost more than the
    // aligned loads save).
    const std::int64_t lanes_taken = (spec.out_channels + plan.vlen - 1) / plan.vlen * plan.vlen;
    if (target != isa::scalar && !plan.slide_src && 2 * spec.out_channels >= lanes_taken) plan.lane_ur = plan.vlen;
  } else {
    // The tile that keeps the FMA ports busiest per step and wastes the fewest
    // output channels in its tail block; among equals, the fewest loads per FMA.
    double best = -1;
    for (int ur = 1; ur <= 8; ++ur)
      for (int oc = 1; oc <= std::min<std::int64_t>(cout_g, registers); ++oc) {
        if (oc * ur + ur + 1 > registers) continue;
        const double fma_share = oc * ur / 2.0 / tile_step_cycles(oc, ur);
        const double latency_cover = std::min(1.0, oc * ur / 8.0);  // 4-cycle FMA latency, 2 ports
        const std::int64_t blocks = (cout_g + oc - 1) / oc;
        const double channel_use = double(cout_g) / double(blocks * oc);
        const double score =
            fma_share * latency_cover * channel_use - 1e-3 * tile_step_loads(oc, ur) / double(oc * ur);
        if (score > best + 1e-9) {
          best = score;
          plan.oc_block = oc;
          plan.ur_w = ur;
        }
      }
    plan.src_in_registers = plan.oc_block > 1;
  }
  plan.oc_tail = int(cout_g % plan.oc_block);
  plan.compact_windows = spec.kernel_size * plan.tile_width() < spec.stride * plan.window_phase_length();
  // A dense layer's first and last tiles pad in place where they read phase
  // 0 (stride 1) and registers are left for an edge vector an FMA reads (and
  // its scratch on AVX2).
  if (!plan.depthwise && spec.stride == 1 && !plan.compact_windows && (spec.pad_left() > 0 || spec.pad_right() > 0))
    plan.edge_tiles = plan.src_in_registers || plan.weight_register() + 2 < registers;

  // Input channels per call: the largest divisor of C_in/groups whose input
  // (a window row, or the taps' reach in place) and block weights fit
  // kChannelBlockBytes; a divisor far below the budget's count is not worth the extra
  // output traffic, and the channels stay whole.
  plan.ic_block = cin_g;
  const std::int64_t channel_bytes =
      (std::min(plan.window_row_floats(), spec.kernel_size * plan.tile_width()) + plan.channel_weights(plan.oc_block)) *
      std::int64_t{sizeof(float)};
  const std::int64_t fitting = std::max<std::int64_t>(1, kChannelBlockBytes / channel_bytes);
  if (cin_g > fitting) {
    std::int64_t divisor = fitting;
    while (cin_g % divisor != 0) --divisor;
    if (divisor * 4 >= fitting) plan.ic_block = divisor;
  }

  const std::int64_t weight_bytes = spec.weight_count() / spec.groups * std::int64_t{sizeof(float)};
  if (!plan.depthwise && weight_bytes > kL2WeightBytes) plan.tile_group = kWeightReuseTiles;
  const std::int64_t reduction = cin_g * spec.kernel_size;
  if (!plan.depthwise && reduction > 0 && reduction <= kShortReduction && cout_g > plan.oc_block) {
    const std::int64_t tile_window_bytes = plan.ic_block * plan.window_row_floats() * std::int64_t{sizeof(float)};
    plan.tile_group = int(std::clamp<std::int64_t>(kGroupWindowBytes / tile_window_bytes, 1, kOutputRunTiles));
    plan.stream_stores = !plan.splits_channels();  // a later channel block reads the output back
  }

  // The dot tile: enough accumulators for the FMA latency from up to
  // kDotRows rows and as many positions as the registers take, the reduction
  // in whole vectors (whole steps when long). A big layer's dot weights
  // stream from L2 or beyond, a vector per dot_ur FMAs: 4 x 4, not 8 x 2,
  // halves that stream (kDotRows). Up to 2 * kChainsInFlight accumulators,
  // but for a pointwise layer, whose short outputs are mostly a batch of
  // single positions, each column in place: on AVX-512 it takes 4 x 6, a
  // column or weight vector loaded per 2.4 FMAs where 4 x 4 loads one per 2
  // (seed.pointwise, 32 samples: 125-129 -> 136-140 GFLOP/s, conv1d_bench
  // medians, three alternating rounds; Conv1d(256, 128, 1) on 64 samples
  // 0.025 -> 0.020 ms, `convjit bench`, two).
  // Other layers' dot tiles serve short rows, and the variants of 6 columns
  // would add a sixth to their code (BM_codegen median 73 -> 86 us). A dot
  // tile of one row reads its columns from memory, so its registers take 24
  // accumulators, a third fewer calls than 16 (seed.depthwise_k49, 239
  // samples: 32.5-33.7 -> 35.4-36.7 GFLOP/s, conv1d_bench medians, three
  // alternating rounds).
  // With a vector of output channels or more, the lanes hold them instead
  // (dot_rows_in_lanes), with no lanes to sum: seed.pointwise, 32 samples of
  // Conv1d(100, 100, 1), 135-137 -> 203-205 GFLOP/s on Xbyak, 116 -> 201-203
  // on LLVM (conv1d_bench medians, two alternating rounds).
  const std::int64_t lane_rows = (cout_g + plan.vlen - 1) / plan.vlen * plan.vlen;  // a group's, rounded up
  plan.dot_rows_in_lanes = !plan.depthwise && cout_g >= plan.vlen && reduction > 0 &&
                           spec.groups * lane_rows * reduction * std::int64_t{sizeof(float)} <= kMaxDotWeightBytes &&
                           reduction * std::int64_t{sizeof(float)} <= kMaxDotColumnBytes;
  std::int64_t dot_vectors = (reduction + plan.vlen - 1) / plan.vlen;
  if (dot_vectors > kMaxDotVectors) dot_vectors = (dot_vectors + kLongDotStepVectors - 1) / kLongDotStepVectors * kLongDotStepVectors;
  const std::int64_t dot_length = dot_vectors * plan.vlen;
  if (plan.dot_rows_in_lanes) {
    const int row_vectors = int(std::min<std::int64_t>((cout_g + plan.vlen - 1) / plan.vlen, registers >= 32 ? kRowVectors : 2));
    plan.dot_length = reduction;
    plan.dot_rows = int(std::min<std::int64_t>(row_vectors * plan.vlen, cout_g));
    plan.dot_tail = int(cout_g % plan.dot_rows);
    plan.dot_ur = std::min(kRowsInLanesColumns, (registers - 1 - row_vectors) / row_vectors);
    plan.dot_rows_outer = plan.dot_group_rows() * reduction * std::int64_t{sizeof(float)} > kL2WeightBytes;
    plan.dot_in_place = true;  // no padding to read
  } else if (reduction > 0 && spec.out_channels * dot_length * std::int64_t{sizeof(float)} <= kMaxDotWeightBytes &&
      dot_length * std::int64_t{sizeof(float)} <= kMaxDotColumnBytes) {
    plan.dot_length = dot_length;
    plan.dot_rows = int(std::min<std::int64_t>(cout_g, kDotRows));
    plan.dot_tail = int(cout_g % plan.dot_rows);
    plan.dot_rows_outer = cout_g * dot_length * std::int64_t{sizeof(float)} > kL2WeightBytes;
    plan.dot_columns_from_memory = plan.dot_rows == 1 && target == isa::avx512;
    const int widest = plan.dot_columns_from_memory ? 24 : registers >= 32 ? 8 : 4;
    for (int ur = 1; ur <= widest; ++ur) {
      // The accumulators, the weight, and each column (or a register for the lane sum).
      const int used = plan.dot_rows * ur + 1 + (plan.dot_columns_from_memory ? 1 : ur);
      if ((plan.dot_rows * ur <= 2 * kChainsInFlight || spec.kernel_size == 1 || plan.dot_columns_from_memory) &&
          used <= registers)
        plan.dot_ur = ur;
    }
    // In place: no padding to read, or a partial last vector (no whole zero
    // vectors) in a step that runs once, where it can be masked.
    const auto all = plan.variants();
    plan.dot_in_place = dot_length == reduction ||
                        (dot_length - reduction < plan.vlen &&
                         std::all_of(all.begin(), all.end(), [&](const auto& v) { return !v.dot || plan.channel_steps(v) == 1; }));
  }

  // A column tile where it costs fewer FMAs than a position vector (fewer
  // positions than rows) and a vector holds the rows.
  if (!plan.depthwise && plan.oc_block <= plan.vlen) plan.column_ur = plan.oc_block - 1;
  if (plan.column_ur > 0 && !plan.compact_windows)
    plan.trailing_columns = std::min({plan.column_ur, registers - plan.vector_registers_used(), kMaxTrailingColumns});

  const std::int64_t lane_reach = ((plan.lane_ur - 1) * spec.stride + (spec.kernel_size - 1) * spec.dilation + 1) *
                                  plan.vlen * std::int64_t{sizeof(float)};
  if (lane_reach > kMaxDisplacementBytes) plan.lane_ur = 0;  // wide dilations stay on position vectors
  if (plan.depthwise && plan.lane_ur == 0) plan.tile_group = kDepthwiseRowTiles;
  if (plan.edge_tiles)
    plan.first_edge_variant =
        int(plan.variants().size() - (1 + plan.position_urs().size()) * (plan.oc_tail > 0 ? 2 : 1));
  // Tap k of a whole tile from output 0 reads only left padding when its
  // last input, (tile_width() - 1) * stride + k * dilation - pad_left, is
  // below 0; by the output-length formula the last whole tile's tap K - b
  // reads only right padding at most when (b - 1) * dilation < pad_right -
  // (tile_width() - 1) * stride.
  if (plan.compact_windows && !plan.depthwise && spec.mode == padding_mode::zeros) {
    auto padding_taps = [&](std::int64_t pad) {
      const std::int64_t room = pad - (plan.tile_width() - 1) * spec.stride;
      return room > 0 ? int(std::min((room - 1) / spec.dilation + 1, spec.kernel_size - 1)) : 0;
    };
    plan.first_skipping_variant = int(plan.variants().size());
    plan.padding_taps_left = padding_taps(spec.pad_left());
    plan.padding_taps_right = padding_taps(spec.pad_right());
  }
  const std::int64_t reach = (plan.taps.back().offset + plan.tile_width()) * std::int64_t{sizeof(float)};
  if (reach > kMaxDisplacementBytes || plan.window_row_floats() * cin_g > (std::int64_t{1} << 28))
    return decline(fmt::format("the receptive field ({} positions) is too wide for the kernel's addressing",
                               spec.receptive_field()));
  return plan;
}

}  // namespace convjit
