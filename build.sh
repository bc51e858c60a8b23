#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One-command setup on Debian 12: installs missing packages, configures, builds.
#   ./build.sh demo   every layer of every shipped model through its build-time
#                     (AOT) kernels, the Xbyak JIT and the generic implementations
#   ./build.sh test   build and run every test, then again under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake ninja-build libfmt-dev libgtest-dev libbenchmark-dev libxbyak-dev binutils
  libdnnl-dev libopenblas-dev libtorch-dev gnuplot-nox llvm-19-dev)

install_missing_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "build.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build DIR [cmake options...]
build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j2
}

install_missing_packages
case "${1:-}" in
  demo)
    build build -DCMAKE_BUILD_TYPE=Release
    for model in models/*.txt; do
      echo "== $model"
      build/runtime/convjit bench --suite "$model" --impl aot,xbyak,im2col+gemm,onednn-ncw,torch --budget 0.2
    done
    ;;
  test)
    build build -DCMAKE_BUILD_TYPE=Release -DCONVJIT_WERROR=ON
    ctest --test-dir build -j2 --output-on-failure
    # Every code path on one machine: the same suite with the ISA capped (the
    # sweeps already run every ISA themselves).
    for cap in avx2 none; do
      echo "build.sh: tests with CONVJIT_MAX_ISA=$cap"
      CONVJIT_MAX_ISA=$cap ctest --test-dir build -j2 --output-on-failure -E 'bench_cli_test|sweep_test'
    done
    # The baselines (libtorch, oneDNN) and the AOT sweep (tests/CMakeLists.txt)
    # are not built with the sanitizers; of the JIT sweep's eight shards one
    # (270 layers, every ISA) runs sanitized.
    build build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVJIT_SANITIZE=address,undefined \
      -DCONVJIT_BUILD_BENCH=OFF
    ctest --test-dir build-sanitize -j2 --output-on-failure -E 'jit_sweep_test.*/[1-7]$'
    # The kernel cache under concurrent first use, under ThreadSanitizer.
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVJIT_SANITIZE=thread \
      -DCONVJIT_BUILD_BENCH=OFF >/dev/null
    cmake --build build-tsan -j2 --target kernel_cache_test
    ctest --test-dir build-tsan --output-on-failure -R kernel_cache_test
    ;;
  *)
    echo "usage: ./build.sh demo | test" >&2
    exit 2
    ;;
esac
