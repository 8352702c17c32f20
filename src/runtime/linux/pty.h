// Pseudo-terminal plumbing for `exec -it` and attach: an owned master/slave pair, the user's terminal
// in raw mode (restored on destruction), SIGWINCH as a readable fd, and exec's copy loop.
#pragma once

#include <signal.h>
#include <termios.h>

#include <optional>

#include "common/fs.h"
#include "runtime/linux/conmon_runtime.h"

namespace zl {

// A new pty pair; the master is non-blocking. Both fds close-on-exec.
struct Pty {
  UniqueFd master, slave;
  static Result<Pty> open(unsigned short rows, unsigned short cols);
};

// Puts a terminal in raw mode; restores its settings on destruction. A no-op for a non-tty.
class RawMode {
 public:
  static Result<RawMode> enable(int fd);
  RawMode(RawMode&& o) noexcept : fd_(std::exchange(o.fd_, -1)), saved_(o.saved_) {}
  RawMode& operator=(RawMode&&) = delete;
  ~RawMode();

 private:
  RawMode(int fd, termios saved) : fd_(fd), saved_(saved) {}
  int fd_ = -1;
  termios saved_{};
};

// SIGWINCH turned into a byte on a pipe (fd() polls readable), while installed; the previous
// handler is back on destruction. One at a time per process.
class WinchPipe {
 public:
  static Result<WinchPipe> install();
  WinchPipe(WinchPipe&& o) noexcept
      : r_(std::move(o.r_)),
        w_(std::move(o.w_)),
        old_(o.old_),
        installed_(std::exchange(o.installed_, false)) {}
  WinchPipe& operator=(WinchPipe&&) = delete;
  ~WinchPipe();
  int fd() const { return r_.get(); }
  void drain() const;  // reads the pending bytes: call when fd() polls readable

 private:
  WinchPipe(UniqueFd r, UniqueFd w) : r_(std::move(r)), w_(std::move(w)) {}
  static inline volatile sig_atomic_t write_fd_ = -1;
  UniqueFd r_, w_;
  struct sigaction old_ {};
  bool installed_ = false;
};

// Copies io.in_fd -> master and master -> io.out_fd until every holder of the slave has closed it
// (the runtime exited) and its output is drained. When in_fd is a terminal, SIGWINCH resizes the
// pty to match it. End of input sends the pty's EOF character (^D) once.
Status pump_terminal(const TerminalIo& io, int master_fd);

// Sets the pty's size from a terminal; false when `from` is not one.
bool copy_window_size(int from_tty, int to_pty);

}  // namespace zl
