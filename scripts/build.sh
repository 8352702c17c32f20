#!/usr/bin/env bash
# Configures and builds zlayer into build/ (or $BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
LAUNCHER=()
if command -v ccache >/dev/null; then  # optional: speeds up rebuilds across build dirs
  export CCACHE_NOHASHDIR=true CCACHE_BASEDIR=$PWD  # hits across build dirs and checkouts
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DZLAYER_WERROR=ON "${LAUNCHER[@]}" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)" ${TARGETS:-}
