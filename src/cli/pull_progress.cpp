#include "cli/pull_progress.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/format.h"

namespace zl::cli {

void PullProgress::update(const BlobProgress& p) {
  auto it = std::find_if(lines_.begin(), lines_.end(), [&](const Line& l) { return l.digest == p.digest; });
  if (it == lines_.end()) {
    lines_.push_back(Line{p.digest, p.is_config, p.state, p.done, p.total});
  } else {
    *it = Line{p.digest, p.is_config, p.state, p.done, p.total};
  }
  auto now = std::chrono::steady_clock::now();
  bool milestone = p.state != BlobProgress::State::downloading;
  if (milestone || now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw();
  }
}

void PullProgress::finish() { draw(); }

void PullProgress::draw() {
  std::string s;
  if (drawn_ > 0) s += fmt::format("\x1b[{}A", drawn_);  // back to the first line we drew
  uint64_t done = 0, total = 0;
  for (const Line& l : lines_) {
    std::string state;
    switch (l.state) {
      case BlobProgress::State::waiting: state = "Waiting"; break;
      case BlobProgress::State::already_exists: state = "Already exists"; break;
      case BlobProgress::State::downloading:
        state = fmt::format("Downloading {}/{}", human_size(l.done), human_size(l.total));
        break;
      case BlobProgress::State::verified: state = "Download complete"; break;
    }
    done += l.state == BlobProgress::State::already_exists ? 0 : l.done;
    total += l.state == BlobProgress::State::already_exists ? 0 : l.total;
    s += fmt::format("\x1b[2K{}{}: {}\n", l.digest.hex().substr(0, 12), l.is_config ? " (config)" : "", state);
  }
  s += fmt::format("\x1b[2KTotal: {} / {}\n", human_size(done), human_size(total));
  drawn_ = lines_.size() + 1;
  std::fputs(s.c_str(), out_);
  std::fflush(out_);
}

}  // namespace zl::cli
