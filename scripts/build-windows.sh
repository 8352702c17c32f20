#!/usr/bin/env bash
# The Windows backend: cross-compiles zlayer.exe and zlayer_windows_tests.exe with mingw-w64
# (cmake/mingw-w64-x86_64.cmake) into build-windows/ (or $BUILD_DIR), warnings as errors, then
# runs them under Wine (no HCS there): the portable tests must pass, and every call that needs
# the Host Compute Service must fail with "HCS is not available on this host", not crash.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-windows}
LAUNCHER=()
if command -v ccache >/dev/null; then
  export CCACHE_NOHASHDIR=true CCACHE_BASEDIR=$PWD
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
start=$(date +%s)
cmake --no-warn-unused-cli -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
  -DZLAYER_WERROR=ON "${LAUNCHER[@]}" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"${JOBS:-2}" zlayer zlayer_windows_tests
built=$(date +%s)
echo "== windows: built zlayer.exe and zlayer_windows_tests.exe in $((built - start)) s"

WINE=${WINE:-$(command -v wine64 || echo /usr/lib/wine/wine64)}
[ -x "$WINE" ] || { echo "build-windows: no wine64 (apt-get install wine64)"; exit 1; }
WINESERVER=${WINESERVER:-$(command -v wineserver || echo /usr/lib/wine/wineserver64)}
# A throwaway prefix (about 700 MB: Wine copies its DLLs into it), removed again at the end.
export WINEPREFIX=$PWD/$BUILD_DIR/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { "$WINESERVER" -k >/dev/null 2>&1 || true; rm -rf "$WINEPREFIX"; }
trap cleanup EXIT
mkdir -p "$WINEPREFIX"
"$WINE" cmd /c exit 0 >/dev/null 2>&1 || true  # creates the prefix: the slow first start
prefix_ready=$(date +%s)
echo "== windows: wine prefix ready in $((prefix_ready - built)) s"

echo "== windows: unit tests under wine"
"$WINE" "$BUILD_DIR/zlayer_windows_tests.exe" --gtest_brief=1 2>&1 | tr -d '\r' | tee "$BUILD_DIR/tests.log"
grep -q '^\[  PASSED  \]' "$BUILD_DIR/tests.log" && ! grep -q '^\[  FAILED  \]' "$BUILD_DIR/tests.log" ||
  { echo "build-windows: the Windows unit tests failed"; exit 1; }

echo "== windows: zlayer.exe info under wine (expects HCS to be missing)"
set +e
"$WINE" "$BUILD_DIR/zlayer.exe" info 2>&1 | tr -d '\r' | tee "$BUILD_DIR/info.log"
set -e
grep -q 'HCS is not available on this host' "$BUILD_DIR/info.log" ||
  { echo "build-windows: zlayer.exe info did not report the missing HCS"; exit 1; }
"$WINE" "$BUILD_DIR/zlayer.exe" --root 'C:\zl-smoke' ps >/dev/null 2>&1 ||
  { echo "build-windows: zlayer.exe ps failed"; exit 1; }
if out=$("$WINE" "$BUILD_DIR/zlayer.exe" --root 'C:\zl-smoke' run --name c1 app cmd /c exit 0 2>&1); then
  echo "build-windows: zlayer.exe run succeeded without HCS"; exit 1
fi
echo "$out" | tr -d '\r'
echo "$out" | grep -q '^zlayer: HCS is not available on this host' ||
  { echo "build-windows: zlayer.exe run did not fail with the clear error"; exit 1; }
echo "== windows: done in $(($(date +%s) - start)) s"
