// SPDX-License-Identifier: MIT
// `convjit bench` as a module the CLI loads only for that command: the
// baselines' libraries (libtorch alone takes 0.6 s to initialise) never slow
// the other commands down.
#include <fmt/format.h>

#include <new>

#include "bench/suite.h"
#include "generator/error.h"

/** argv after "bench". Reports its own errors (they carry this module's copy of
 * convjit::error) and returns the exit status: 0, 1 for a wrong result, 2 for
 * bad input. */
extern "C" __attribute__((visibility("default"))) int convjit_bench_main(int argc, char** argv) {
  using namespace convjit;
  try {
    return bench::bench_command(argc, argv);
  } catch (const error& e) {
    fmt::print(stderr, "convjit: error: {}: {}\n", errc_name(e.code()), e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "convjit: error: {}: not enough memory for these tensors\n", errc_name(errc::size_overflow));
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "convjit: internal error: {}\n", e.what());
    return 1;
  }
}
