// SPDX-License-Identifier: MIT
// kernel_plan: every blocking and register decision for one spec on one ISA,
// made once, before any emission; the emitters only walk it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "generator/isa.h"
#include "generator/spec.h"

namespace convjit {

/** Where tap k reads, relative to the tile's first output: in phase `phase` of
 * the (phase-decomposed) input row, `offset` positions on. With stride 1 the
 * phase is always 0 and the offset is k * dilation. */
struct tap_source {
  int phase;
  std::int64_t offset;
};

/** The end of an input row an edge variant's call reads across (kernel_plan::edge_tiles). */
enum class row_edge : std::uint8_t { none, left, right };

/** Where one lane of an edge variant's input vector comes from: nowhere (zero:
 * the zeros padding mode, or past the taps' reach), the float `offset` floats
 * from src, or `offset` floats from src + conv1d_args::src_wrap (circular). */
struct lane_source {
  enum class from : std::uint8_t { zero, src, wrapped };
  from where = from::zero;
  std::int64_t offset = 0;
  friend bool operator==(const lane_source&, const lane_source&) = default;
};

/** How a layer is computed; see make_plan() for the choices.
 *
 * The register tile is oc_block output channels by ur_w vectors of
 * vector_floats consecutive output positions (NCL: a vector is one channel's
 * positions, so stores are contiguous and weights are broadcast). Stride is
 * handled by phase decomposition: position t*stride + k*dilation lies in phase
 * (k*dilation) % stride at index t + (k*dilation) / stride, so every tap reads a
 * contiguous vector. A depthwise layer (one input and one output channel per
 * group) gets its own tile: one channel, a long run of positions, the input
 * read straight from memory by the FMAs.
 *
 * Output positions are cut into tiles of tile_width(); a tile reads its input
 * in place when the stride is 1 and none of its taps leaves [0, L_in), or
 * when it is an edge tile (edge_tiles) that pads the row itself, or the last
 * tile, whose valid outputs read only the input (its lanes past L_out read
 * on into the next row and are never stored; the tensor's last row aside);
 * otherwise (padding wider than a tile, a partial last tile reading the
 * padding, every tile of a strided layer) the driver gives it a window of the
 * input with the padding mode applied and the phases split. A depthwise row of stride 1, whose tiles
 * come in pieces, ends in a piece moved back to end at the row's end, so no
 * tile is partial. L_in and N are run-time values: a new length never needs
 * a new plan. */
struct kernel_plan {
  conv1d_spec spec;
  isa target = isa::scalar;
  bool depthwise = false;  // C_in/groups == C_out/groups == 1
  int vlen = 1;            // floats per vector
  int oc_block = 1;        // output channels per register tile
  int oc_tail = 0;         // rows of the last block of a group (C_out/groups % oc_block), 0 if none
  int ur_w = 1;            // vectors of output positions per tile
  bool src_in_registers = true;  // load each input vector once for all oc_block rows (else FMA memory operands)
  /** A depthwise tile of stride 1 on AVX-512 loads its input once, at whole
   * vectors: src(m) holds the vector m * vlen floats on. A tap that reads
   * between two of them takes the pair shifted (valignd), or, every third
   * one, an FMA memory operand: either way alone holds the FMAs back, and on
   * Zen 5 a misaligned load costs more than a shift, so two shifts to a load
   * keep them busiest (against every other one, conv1d_bench medians, three
   * alternating rounds: conformer k31 0.092 -> 0.081-0.082 ms, convnext1d k15
   * 0.216-0.223 -> 0.201-0.214; three in four or five within noise of it). */
  bool slide_src = false;
  /** Input channels per kernel call (divides C_in/groups): a tile's input and
   * a block's weights for that many channels stay in cache (L1, or beyond it
   * L2, whose streams feed the rows in order), so every block of the tile
   * reuses them from there. Calls after a tile's first add to its output:
   * conv1d_args::accumulate, read at run time (adds_at_run_time). */
  std::int64_t ic_block = 1;
  /** Windows hold, per input channel, K segments of tile_width() inputs (tap k's
   * inputs, stride applied) instead of `stride` phase rows spanning the whole
   * receptive field: chosen when smaller, i.e. for wide dilations. */
  bool compact_windows = false;
  /** Position tiles that share a pass over the weights: each output-channel
   * block runs over that many consecutive tiles before the next block, so
   * weights too large to stay in L2 are read once per group, not per tile, and
   * an output-bound layer writes each block's rows in long runs (the group's
   * input stays in L2 meanwhile). A depthwise layer's group is a row, or a
   * chunk of a long one: the driver's work per group, once a row. */
  int tile_group = 1;
  std::vector<tap_source> taps;  // one per kernel tap
  std::vector<int> phases_used;  // distinct phases read by the taps, ascending
  /** The dot tile, for outputs shorter than a vector or little more, where
   * position vectors would waste most lanes: the lanes hold the reduction
   * instead. Output (o, t) is the dot product of row o of the weight, C_in/groups
   * x K floats, with the input column t (im2col), both zero-padded to
   * dot_length; the lanes are summed at the store (unless they hold the
   * output channels instead: dot_rows_in_lanes). dot_rows outputs channels by
   * dot_ur positions; dot_rows == 0: the layer has no dot tile (no reduction,
   * or weights or a column too large to copy). The driver picks it per call (use_dot_tile). */
  int dot_rows = 0;
  int dot_tail = 0;  // rows of a group's last dot block, 0 if none
  int dot_ur = 0;
  std::int64_t dot_length = 0;
  /** Dot kernels find column j at src + j * src_stride, a run-time stride,
   * so a column contiguous in the input needs no copy. Only when every dot
   * kernel reads exactly a column's C_in/groups x K floats, the last partial
   * vector masked (a step that covers the whole reduction), never the zero
   * padding past it, may the driver pass columns in place. */
  bool dot_in_place = false;
  /** A dot tile of one row (C_out/groups == 1) uses each column vector once:
   * on AVX-512 its FMAs read the columns from memory, the partial last vector
   * merge-masked, so its registers go to accumulators, 24 columns a call,
   * not 8 (fewer calls, each with more to do). */
  bool dot_columns_from_memory = false;
  /** The dot tile's lanes hold output channels instead, for a dense layer
   * with a vector of them or more: a block of dot_rows rows (whole vectors, the
   * tail block's last one partial) by dot_ur columns, each column's input
   * broadcast a float at a time against a vector of the rows' weights for
   * it: an outer product, so no lanes to sum and no reduction padded to
   * whole vectors (dot_length is the reduction). Output row o of column j is
   * at dst + o + j * dst_column_stride: rows are contiguous where the output
   * is (L_out = 1, a batch of columns); else the driver gives the kernel a
   * scratch. Weights: per group, per block, [dot_length][its rows rounded up
   * to vectors, zeros after them]. */
  bool dot_rows_in_lanes = false;
  /** A group's dot weights are beyond L2: each block of dot rows runs over
   * many tiles' columns before the next block, instead of each tile over
   * every block, so the weights are read once per pass, not once per tile. */
  bool dot_rows_outer = false;
  /** The channel-lane tile, for depthwise layers with channels to fill the
   * lanes: a vector is vlen channels at one position, so every tap is an
   * aligned load and its weights a vector. It reads a window transposed to
   * position-major (vlen floats per position, channels past C_out zero) and
   * writes lane_ur positions the same way; the driver transposes both. Position
   * j's tap k is at window position j * stride + k * dilation: no phases.
   * lane_ur == 0: the layer has no lane tile (portable plans never do). */
  int lane_ur = 0;
  /** The column tile, for the last few positions of an output (a partial
   * last vector): a vector holds the block's rows (output channels) at one
   * position, so the block's packed weights, just read by the position tiles,
   * serve as vectors (rows floats of tap k at k * rows, the lanes past rows
   * ignored), and each input is broadcast. It costs a position per FMA where a
   * position vector costs rows FMAs for up to vlen positions, so it takes up
   * to column_ur < rows positions; a wav2vec2 layer with 49 outputs ran its
   * 49th on a dot tile, streaming a second copy of 2 MiB of weights. It always
   * adds to its output, position-major (column j at j * vlen), which the
   * driver starts at the bias and scatters to the rows. 0: no column tile. */
  int column_ur = 0;
  /** Whole tiles that compute up to this many positions after their last
   * vector too, as a column tile does, into conv1d_args::columns: when an
   * output's last tile would hold only columns, the tile before takes them
   * while it reads the block's weights, where a column tile after it would
   * read them again, from L2 (wav2vec2.conv6, 48 positions and 1:
   * 0.252-0.257 ms -> 0.214-0.216, conv1d_bench medians). An accumulator a
   * column, in the registers the position tile leaves, up to column_ur and 2
   * (a variant each); 0 with tap-segment windows, whose segments end at the
   * tile's width. */
  int trailing_columns = 0;
  /** An output-bound layer (a short reduction: each output costs few FMAs),
   * its input channels whole, whose position tiles can store past the caches
   * when the output exceeds them (conv1d_args::stream, chosen per call by the
   * driver): stereo.long's 64 MiB output 3.17-3.38 -> 2.47-2.55 ms on one
   * thread (conv1d_bench medians). */
  bool stream_stores = false;
  /** Edge variants, for a padded plan of stride 1 that reads phase rows (a
   * sliding depthwise plan, or a dense one with the registers): a row's
   * first tile (ur_w vectors from output 0) and its last (any count, ending
   * at L_out) read the row in place and apply the padding mode themselves,
   * lane by lane as edge_lanes() says, where other tiles whose taps leave
   * the input read a window the driver fills (convnext1d k15, two of whose
   * three calls a row read windows before: 0.254-0.260 -> 0.236-0.240 ms,
   * conv1d_bench medians; dense layers, whose windows are a small share of
   * their work, within noise). Both ends are at fixed distances from such a
   * tile's input, so every lane's source is a constant of the kernel but for
   * circular padding's wrap, one input length (conv1d_args::src_wrap). They
   * follow every other variant, from first_edge_variant, per block (oc_block
   * rows, then oc_tail): the left one, then the right ones by position_urs(). */
  bool edge_tiles = false;
  int first_edge_variant = 0;
  /** Taps a whole tile with a tap-segment window leaves out where they read
   * only zero padding: its first taps near the row's left end, its last near
   * the right end, up to this many at each (fewer than K), as counts of
   * piece_counts() (1, 2, 4.. and the most), padding_taps_of() taking the largest
   * that fits a tile; those taps' inputs are all zeros, so the tile computes
   * the same sums with fewer FMAs and the driver fills no window segments for
   * them (tcn.d512: a quarter of its outputs have a tap in the padding).
   * Variants per block, from first_skipping_variant: the left counts, then
   * the right ones. */
  int padding_taps_left = 0, padding_taps_right = 0;
  int first_skipping_variant = 0;

  int tile_width() const { return ur_w * vlen; }
  /** Phases other than 0 the taps read: each needs a register for its offset. */
  int nonzero_phases() const { return int(phases_used.size()) - (phases_used.front() == 0 ? 1 : 0); }

  /** The kernels a plan has: a block of `rows` output channels (oc_block, or
   * oc_tail) by `ur` vectors of positions, ur = ur_w for whole tiles and less
   * for the partial last one, so it computes at most one vector too many.
   * A variant with fewer independent FMA chains than the FMA units keep in
   * flight spreads the taps over `sums` sets of accumulators (tap k adds into
   * set k % sums), in the registers whole tiles use for more vectors, and adds
   * the sets together, 1 to sums - 1 in order, before the store. */
  struct variant {
    int rows;
    int ur;
    bool compact;      // reads a tap-segment window (see compact_windows)
    int sums = 1;      // partial-sum sets per output vector
    bool dot = false;  // a dot tile: ur positions, one accumulator each, summed across lanes
    bool lanes = false;    // a channel-lane tile: the bias is a vector, not a broadcast
    bool columns = false;  // a column tile: one accumulator row, a vector of rows per position; always adds to its output
    // Vector registers: acc(o, column) at o * row_registers + column, then
    // src(j) from first_src, then the weight (with rows in lanes: the
    // broadcast column at first_src, then row vector o's weights at weight + o).
    int row_registers = 0, first_src = 0, weight = 0;
    // Input channels a step covers (a column tile's few chains need more
    // taps), or a dot tile's vectors of the reduction.
    int channel_unroll = 1;
    int shifted = 0;  // the register a shifted input goes through (slide_src), or an edge vector an FMA reads
    /** AVX2 (no mask registers): the register an edge vector's lanes pass
     * through before they are blended in: the weight's when src vectors are
     * loaded (it is free until their tap's broadcast), else the one after
     * shifted. Sliding plans (AVX-512 only) have none. */
    int edge_scratch = 0;
    row_edge edge = row_edge::none;  // an edge variant (edge_tiles): the row end its call reads across
    int skip_first = 0, skip_last = 0;  // taps a compact whole tile leaves out (padding_taps_left, _right)
    int trailing = 0;        // a whole position tile's trailing columns (trailing_columns), adding to conv1d_args::columns
    int first_trailing = 0;  // trailing column j's accumulator: first_trailing + j
    int row_vectors = 0;     // a dot tile with rows in lanes (dot_rows_in_lanes): the vectors its rows take, else 0
    int acc_register(int o, int column) const { return o * row_registers + column; }
    /** Rows of accumulators: a column tile's rows are its lanes, a dot tile's with rows in lanes its vectors. */
    int accumulator_rows() const { return columns ? 1 : row_vectors > 0 ? row_vectors : rows; }
    /** The register of row vector o's weights (rows in lanes), or the one weight register. */
    int weight_of(int o) const { return weight + (row_vectors > 0 ? o : 0); }
    int src_register(int j) const { return first_src + j; }
    /** Whether the step reads phase rows (a compact window holds tap k at k *
     * tile_width(), dot columns and lane windows their taps in a row). */
    bool reads_phases() const { return !compact && !dot && !lanes; }
    /** e.g. "8x3_compact": every emitter's function names end so. */
    std::string name() const;
  };
  std::vector<variant> variants() const;

  /** One operation of a kernel's step over one input channel; channel_step()
   * lists them in emission order, and every emitter renders that list. */
  struct step_op {
    enum class kind {
      load_src,          // src(j) = the input vector at (phase, offset); a dot tile's column j, offset floats in
      broadcast_weight,  // the weight register = every lane the packed weight `weight`
      load_weight,       // the weight register = the packed weights from `weight` on (dot tiles)
      fma,               // acc(o, j) += src(j) * weight register
      fma_from_memory,   // acc(o, j) += the input vector at (phase, offset) * weight register; a dot tile's column j, offset floats in
      fma_broadcast_src, // acc(o, j) += the input float at (phase, offset), in every lane, * weight register
      fma_broadcast_weight,  // acc(o, j) += src(j) * the packed weight `weight` in every lane: a weight
                             // one FMA uses (a tile of one vector), read by the FMA itself (AVX-512)
      fma_shifted,       // acc(o, j) += the input vector at (phase, offset) * weight register, which is
                         // src(src) shifted down `shift` lanes with src(src + 1) following (slide_src)
      fma_trailing,      // trailing column j's accumulator += the input float at (phase, offset), in every
                         // lane, * weight register (the block's rows of one tap, as load_weight left it)
      // A dot tile with rows in lanes: load_weight fills row vector o's weight register; then
      broadcast_column,  // the broadcast register (first_src) = column j's float `offset` floats in, in every lane
      fma_column,        // acc(o, j) += the broadcast register * row vector o's weight register
    };
    kind what;
    int o = 0, j = 0;          // tile row (output channel of the block) and vector
    int phase = 0;             // the input phase read (always 0 in a compact window)
    std::int64_t offset = 0;   // floats into that phase, from the tile's first output
    int weight = 0;            // float index in the channel's packed weights
    int sum = 0;               // the partial-sum set an FMA adds into
    int channel = 0;           // the step's input channel the op reads (< the variant's channel_unroll)
    int src = 0, shift = 0;    // fma_shifted: offset == src * vlen + shift (less pad_left in a left edge variant)
    /** load_src or fma_from_memory of a dot column's partial last vector:
     * its first `lanes` floats, the rest zero. It comes before any other op
     * on its columns in a step that runs once, so the accumulators it adds to
     * are zero past its lanes: an emitter may compute it in a narrower vector. */
    int lanes = 0;
    /** load_src or fma_from_memory of an edge variant whose vector reaches
     * into the padding: its lanes come from edge_lanes(v, offset). A left
     * edge variant's src is the row's start, so its offsets are all pad_left
     * less than the same op's in the variant of its count. */
    bool edge = false;
  };
  std::vector<step_op> channel_step(const variant& v) const;
  /** An edge variant's ops from its counterpart's: offsets from its src, `edge` set. */
  std::vector<step_op> edge_ops(const variant& v, std::vector<step_op> ops) const;
  /** How many times a kernel runs its step: once per channel_unroll input
   * channels, per channel_unroll vectors of a dot tile's reduction, or once
   * for a lane tile, whose step covers the whole reduction. Within a step, the
   * ops of channel u read u input rows and u channels' weights on. */
  std::int64_t channel_steps(const variant& v) const {
    return v.lanes ? 1 : (v.dot ? dot_length / (v.row_vectors > 0 ? 1 : vlen) : ic_block) / v.channel_unroll;
  }
  /** What a step adds to the weight pointer per input channel, or a dot
   * tile's step to both its weights and its input: a dot tile's columns and
   * weight rows run along the reduction, not across input rows (src_stride). */
  std::int64_t step_weight_floats(const variant& v) const {
    return v.dot ? std::int64_t(v.channel_unroll) * (v.row_vectors > 0 ? v.row_vectors : 1) * vlen
                 : channel_weights(v.rows);
  }
  /** What a dot tile's step adds to its columns' pointer: its share of the reduction. */
  std::int64_t step_src_floats(const variant& v) const {
    return std::int64_t(v.channel_unroll) * (v.row_vectors > 0 ? 1 : vlen);
  }
  bool splits_channels() const { return ic_block < spec.in_channels_per_group(); }
  /** Packed weight floats per input channel of a block of `rows`. */
  int channel_weights(int rows) const { return int(spec.kernel_size) * rows; }
  int variant_index(int rows, int ur, bool compact, bool dot = false) const;
  /** The vector counts position tiles come in: every count up to ur_w, or,
   * for a wide tile (ur_w > 5, depthwise), ur_w and the powers of two below
   * it, a partial last tile running as pieces of those, largest first (15
   * vectors of code instead of 36 at ur_w 8; a narrow tile's pieces would
   * cost a call each for little code); none when lane tiles cover every output. */
  std::vector<int> position_urs() const;
  bool tiles_in_pieces() const { return ur_w > 5; }
  /** The counts a dot tile (dot_ur wide) or a column tile (column_ur) comes
   * in: its width and the powers of two below it, a narrower one running as
   * pieces of those, largest first (8, 4, 2, 1: 4 variants, not 8). */
  static std::vector<int> piece_counts(int widest);
  /** The largest of piece_counts(widest) up to `count` (>= 1). */
  static int piece_for(int widest, int count) {
    if (count >= widest) return widest;
    int piece = 1;
    while (2 * piece <= count) piece *= 2;
    return piece;
  }
  /** The largest of position_urs() up to `ur` (>= 1). */
  int position_piece(int ur) const { return tiles_in_pieces() ? piece_for(ur_w, ur) : std::min(ur, ur_w); }
  /** The partial-sum sets of the position variant of `rows` by `ur`. */
  int position_sums(int rows, int ur) const;
  /** Whether variant v starts from its output when conv1d_args::accumulate is
   * set (a position tile of a plan that splits the input channels): one
   * variant for both, where a second would double the code. */
  bool adds_at_run_time(const variant& v) const { return splits_channels() && !v.dot && !v.lanes && !v.columns; }
  /** Whether variant v stores its rows non-temporally when
   * conv1d_args::stream is set: the position tiles of a plan with stream_stores. */
  bool streams(const variant& v) const { return stream_stores && !v.dot && !v.lanes && !v.columns; }
  /** Whether variant v masks its last vector's stores (and loads of the
   * output so far) to conv1d_args::last_lanes when set: position tiles but
   * the edge, trailing and skipping ones, whose last vectors are always whole. */
  bool masks_last_vector(const variant& v) const {
    return !v.dot && !v.lanes && !v.columns && v.edge == row_edge::none && v.trailing == 0 && v.skip_first == 0 &&
           v.skip_last == 0;
  }
  /** Lane l of the vector an edge variant's op reads at `offset`: the input
   * at that position of the row, or the padding mode's value for it. */
  std::vector<lane_source> edge_lanes(const variant& v, std::int64_t offset) const;
  /** The edge variant of `side`, `rows` (oc_block or oc_tail) and `ur` vectors (left: ur_w only). */
  int edge_variant_index(row_edge side, int rows, int ur) const {
    const int per_block = 1 + position_place(ur_w) + 1;  // the left one, then the right ones
    return first_edge_variant + (rows == oc_block ? 0 : per_block) + (side == row_edge::left ? 0 : 1 + position_place(ur));
  }
  /** The whole compact tile of `rows` that leaves out `skipped` (of
   * piece_counts(padding_taps_left or _right)) taps at the `side` end. */
  int skipping_variant_index(row_edge side, int rows, int skipped) const {
    const int lefts = int(piece_counts(padding_taps_left).size()), rights = int(piece_counts(padding_taps_right).size());
    return first_skipping_variant + (rows == oc_block ? 0 : lefts + rights) +
           (side == row_edge::left ? piece_place(padding_taps_left, skipped) : lefts + piece_place(padding_taps_right, skipped));
  }
  /** Where `count` is in position_urs(). */
  int position_place(int count) const { return tiles_in_pieces() ? piece_place(ur_w, count) : count - 1; }
  /** Where `count` is in piece_counts(widest). */
  static int piece_place(int widest, int count) {
    int place = 0;
    for (int below = 1; below < count && below < widest; below *= 2) ++place;
    return place;
  }
  /** The lane tile's variant, after the dot tiles. */
  int lane_variant_index() const;
  /** The column tile of `rows` (oc_block or oc_tail) by `ur` (of piece_counts(column_ur)) positions. */
  int column_variant_index(int rows, int ur) const;
  /** The whole tile of `rows` with `columns` (1..trailing_columns) trailing columns, after the column tiles. */
  int trailing_variant_index(int rows, int columns) const {
    const int first = column_variant_index(oc_tail > 0 ? oc_tail : oc_block, column_ur) + 1;  // column_ur > 0
    return first + (rows == oc_block ? 0 : trailing_columns) + columns - 1;
  }
  /** Whether an output whose last tile holds only `positions` columns runs them on the tile before. */
  bool use_trailing_columns(std::int64_t positions) const { return positions > 0 && positions <= trailing_columns; }
  /** Whether the last `positions` of an output past its whole vectors run on a column tile. */
  bool use_column_tile(std::int64_t positions) const { return positions > 0 && positions <= column_ur; }
  /** Whether an output of length l_out runs on dot tiles: fewer operations. */
  bool use_dot_tile(std::int64_t l_out) const;
  int blocks_per_group() const;  // full blocks plus the tail block
  /** Rows of block b of a group. */
  int block_rows(int b) const { return b < (int)(spec.out_channels_per_group() / oc_block) ? oc_block : oc_tail; }

  // Register map of the position tiles (variant has each variant's): acc(o,
  // column) then src(j) then the weight broadcast. Vector j's partial sum
  // `sum` is in column j + sum * ur.
  static int acc_column(const variant& v, int j, int sum) { return j + sum * v.ur; }
  int acc_register(int o, int column) const { return o * ur_w + column; }
  int src_register(int j) const { return oc_block * ur_w + j; }
  int weight_register() const {
    return oc_block * ur_w + (src_in_registers ? ur_w : slide_src ? slide_sources(ur_w) : 0);
  }
  int vector_registers_used() const { return weight_register() + (slide_src ? 2 : 1); }
  /** Whole input vectors a sliding tile of `ur` vectors holds: those that lie
   * within its taps' reach, whose last vector's last tap reads past them from
   * memory instead. */
  int slide_sources(int ur) const { return ur + int(taps.back().offset / vlen); }

  /** Packed weight layout: per group, per block, [C_in/groups][K][rows], the
   * rows of the block fastest, so the kernel broadcasts consecutive floats.
   * With a dot tile, the weight follows again as C_out rows of dot_length
   * floats (zero-padded), from dot_weight_offset(0, 0), or with rows in lanes
   * as each block's [dot_length][rows] (dot_rows_in_lanes). */
  std::int64_t weight_block_offset(std::int64_t group, int block) const;
  /** A group's rows in the dot weights: with rows in lanes, rounded up to vectors. */
  std::int64_t dot_group_rows() const {
    const std::int64_t rows = spec.out_channels_per_group();
    return dot_rows_in_lanes ? (rows + vlen - 1) / vlen * vlen : rows;
  }
  /** The dot weights of group `group` from row `row` (a block's first). */
  std::int64_t dot_weight_offset(std::int64_t group, std::int64_t row) const {
    return spec.weight_count() + (group * dot_group_rows() + row) * dot_length;
  }
  /** With a lane tile, then per block of vlen channels [K][vlen] (lanes past
   * C_out zero), from lane_weight_offset(0). With a column tile, vlen zeros
   * after everything: its last weight vector reads past the last block. */
  std::int64_t lane_weight_offset(std::int64_t block) const {
    return dot_weight_offset(spec.groups, 0) + block * spec.kernel_size * vlen;
  }
  std::int64_t lane_blocks() const { return lane_ur ? (spec.out_channels + vlen - 1) / vlen : 0; }
  /** Packs a (C_out, C_in/groups, K) weight into those layouts. */
  std::vector<float> pack_weights(const float* weight) const;

  // Regions of the output for an input of length l_in (run time).
  std::int64_t tile_count(std::int64_t l_out) const { return (l_out + tile_width() - 1) / tile_width(); }
  /** The middle region: tiles [first, end) read the input in place. */
  struct tile_range {
    std::int64_t first, end;
  };
  tile_range in_place_tiles(std::int64_t l_in, std::int64_t l_out) const;
  bool tile_in_place(std::int64_t tile, std::int64_t l_in, std::int64_t l_out) const {
    const tile_range middle = in_place_tiles(l_in, l_out);
    return tile >= middle.first && tile < middle.end;
  }
  /** The taps whole tile `tile` (windowed, input length l_in) leaves out at
   * one end: the most a skipping variant can of its first taps, or of its
   * last, that read only padding; both 0 when none or no variant does. */
  struct skipped_taps {
    int first = 0, last = 0;
  };
  skipped_taps padding_taps_of(std::int64_t tile, std::int64_t l_in) const;
  /** Input positions a windowed tile reads: [first, first + window_length()). */
  std::int64_t window_first(std::int64_t tile) const { return tile * tile_width() * spec.stride - spec.pad_left(); }
  /** Floats per phase row of a phase window, and per input channel of the
   * window the plan uses. */
  std::int64_t window_phase_length() const;
  std::int64_t window_row_floats() const {
    return compact_windows ? spec.kernel_size * tile_width() : window_phase_length() * spec.stride;
  }

  std::string describe() const;  // one line for logs and `convjit asm`
  /** e.g. convjit_f32_ic512oc512k3s2p1d1g1_avx512_oc8x3: the kernel symbol,
   * dump file and log name. */
  std::string name() const;
};

/** Plans `spec` for `target`: avx2, avx512, or scalar (portable vectors for
 * the C++ and LLVM emitters). Deterministic and pure. Returns nullopt and says
 * why in *why_not when no plan fits. */
std::optional<kernel_plan> make_plan(const conv1d_spec& spec, isa target, std::string* why_not);

}  // namespace convjit
