#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds with warnings as errors, runs every
# test under ctest, then the unit tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (tests start registries and containers)"; exit 1; }

bash scripts/setup-deps.sh
bash scripts/build.sh

echo "== ctest (unit + end-to-end)"
(cd build && ctest --output-on-failure --timeout 600 -j2)

echo "== ctest (unit tests, ASan + UBSan)"
BUILD_DIR=build-asan TARGETS=zlayer_unit_tests bash scripts/build.sh -DZLAYER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 600 -j2 -L unit)

echo "== Windows backend (mingw-w64 cross build, unit tests under wine)"
bash scripts/build-windows.sh

echo "== fuzzers (libFuzzer, clang): seed corpora, then 15 s of new inputs each"
bash scripts/fuzz.sh
