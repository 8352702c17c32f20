#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs each under ctest:
# its seed corpus first, then new inputs for ZLAYER_FUZZ_SECONDS (15 s; `--long`: 10 minutes
# each). Inputs that crash or break a property land in build-fuzz/fuzz-crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${ZLAYER_FUZZ_SECONDS:-15}
[ "${1:-}" = "--long" ] && SECONDS_EACH=600
FUZZERS=(reference manifest spec docker_create layer)
BUILD_DIR=build-fuzz TARGETS="${FUZZERS[*]/%/_fuzzer}" bash scripts/build.sh \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZLAYER_FUZZ=ON -DZLAYER_TESTS=OFF \
  -DZLAYER_FUZZ_SECONDS="$SECONDS_EACH"
cd build-fuzz
# One fuzzer at a time has both cores' worth of time budget; they are CPU-bound.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout $((SECONDS_EACH + 300)) -L fuzz
