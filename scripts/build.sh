#!/usr/bin/env bash
# Configures and builds zlayer into build/ (or $BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DZLAYER_WERROR=ON "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)" ${TARGETS:-}
