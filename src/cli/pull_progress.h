// Draws a pull's progress on a terminal: one line per blob (short digest, state, bytes) and
// a total line, redrawn in place at most 10 times a second.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "image/blob_fetcher.h"

namespace zl::cli {

class PullProgress {
 public:
  explicit PullProgress(std::FILE* out) : out_(out) {}
  void update(const BlobProgress& p);
  void finish();  // final redraw

 private:
  void draw();
  struct Line {
    Digest digest;
    bool is_config;
    BlobProgress::State state;
    uint64_t done, total;
  };
  std::FILE* out_;
  std::vector<Line> lines_;
  size_t drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace zl::cli
