// When to restart a replica that has exited or failed its health check: exponential backoff
// (the policy's delay, doubling, capped at 60 s), reset once a run lasted long enough, and
// CrashLoopBackOff once several runs in a row failed fast. Pure logic, no clocks of its own.
#pragma once

#include <algorithm>
#include <chrono>

namespace zl {

class RestartBackoff {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kMaxDelay{60'000};
  static constexpr Duration kHealthyRun{10'000};  // a run this long resets the backoff
  static constexpr int kCrashLoopAfter = 3;       // fast failures in a row

  RestartBackoff() : RestartBackoff(Duration{1000}) {}
  explicit RestartBackoff(Duration base) : base_(std::max(base, Duration{1})) {}

  // Records a failure of a run that lasted `ran`; returns how long to wait before restarting.
  Duration on_failure(Duration ran) {
    if (ran >= kHealthyRun) fast_failures_ = 0;
    ++fast_failures_;
    ++attempts_;
    return delay();
  }
  // The delay the next restart waits (base * 2^(fast failures - 1), capped).
  Duration delay() const {
    if (fast_failures_ == 0) return Duration{0};
    Duration d = base_;
    for (int i = 1; i < fast_failures_ && d < kMaxDelay; ++i) d *= 2;
    return std::min(d, kMaxDelay);
  }
  bool crash_loop() const { return fast_failures_ >= kCrashLoopAfter; }
  // Restarts so far (for max_attempts); survives resets of the delay.
  int attempts() const { return attempts_; }
  void reset() {
    fast_failures_ = 0;
    attempts_ = 0;
  }

 private:
  Duration base_;
  int fast_failures_ = 0;
  int attempts_ = 0;
};

}  // namespace zl
