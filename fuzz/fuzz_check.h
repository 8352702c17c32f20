// What every zlayer fuzzer shares: libFuzzer's entry point, and a check that reports a broken
// property (not only a crash) by aborting, so libFuzzer saves the input that broke it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define ZL_FUZZ_CHECK(cond, what)                                   \
  do {                                                              \
    if (!(cond)) {                                                  \
      std::fprintf(stderr, "fuzz property broken: %s\n", (what)); \
      std::abort();                                                 \
    }                                                               \
  } while (0)

inline std::string_view fuzz_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
