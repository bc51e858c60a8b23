// SPDX-License-Identifier: MIT
// `convjit bench`: every implementation on a layer or a suite of layers.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench/conv1d_impl.h"

namespace convjit::bench {

struct bench_options {
  int threads = 1;
  double budget_seconds = 0.3;     // per implementation and shape
  std::vector<std::string> impls;  // empty: all
};

/** One implementation on one shape. Skipped rows carry the reason in `note`. */
struct bench_row {
  std::string shape, impl;
  bool skipped = false, correct = true;
  double ms = 0, gflops = 0, pct_peak = 0, x_vs_torch = 0, x_vs_onednn_ncw = 0, max_abs_err = 0;
  double creation_ms = -1;
  double flops = 0, bytes = 0;  // of the shape, for the roofline
  std::string bound;  // "compute" or "memory": which roof binds this shape
  std::string note;   // what ran, or why it was skipped
};

/** Runs every implementation on p: checks its output against the reference
 * first, then times it. Speed-ups are against torch and onednn-ncw of the same
 * run; % of peak against the roofline of measured_peak(). */
std::vector<bench_row> bench_problem(const problem& p, const bench_options& options);

/** Recomputes % of peak and the binding roof of rows with measured_peak() as
 * it is now. */
void apply_roofline(std::vector<bench_row>& rows, int threads);

/** The `shape,impl,ms,gflops,pct_peak,x_vs_torch,x_vs_onednn_ncw,max_abs_err` CSV. */
void print_csv(const std::vector<bench_row>& rows, bool header, std::FILE* out);
/** A table for people, with creation times and notes, and geomean speed-ups. */
void print_table(const std::vector<bench_row>& rows, std::FILE* out);
/** One row per shape, a column per implementation: GFLOP/s (% of peak). */
void print_markdown(const std::vector<bench_row>& rows, std::FILE* out);
void print_peak(int threads, std::FILE* out);
void print_summary(const std::vector<bench_row>& rows, std::FILE* out);
/** A bar chart of GFLOP/s per shape and implementation, drawn by gnuplot.
 * Throws convjit::error (io_error) when gnuplot is missing or fails. */
void plot(const std::vector<bench_row>& rows, int threads, const std::string& png_path);

/** The `convjit bench` command: argv after "bench". Returns the exit status. */
int bench_command(int argc, char** argv);

}  // namespace convjit::bench
