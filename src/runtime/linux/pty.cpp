// Pty pairs, raw mode, window size and the terminal copy loop of an interactive exec.
#include "runtime/linux/pty.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace zl {

namespace {

bool set_size(int fd, unsigned short rows, unsigned short cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  return ::ioctl(fd, TIOCSWINSZ, &ws) == 0;
}

}  // namespace

Result<WinchPipe> WinchPipe::install() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return errno_error(errno, "create pipe");
  WinchPipe w{UniqueFd(fds[0]), UniqueFd(fds[1])};
  write_fd_ = w.w_.get();
  struct sigaction sa {};
  sa.sa_handler = [](int) {
    int saved = errno;
    (void)!::write(write_fd_, "w", 1);
    errno = saved;
  };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGWINCH, &sa, &w.old_) != 0) return errno_error(errno, "install SIGWINCH handler");
  w.installed_ = true;
  return w;
}

WinchPipe::~WinchPipe() {
  if (installed_) {
    ::sigaction(SIGWINCH, &old_, nullptr);
    write_fd_ = -1;
  }
}

void WinchPipe::drain() const {
  char buf[64];
  while (::read(r_.get(), buf, sizeof buf) > 0) {
  }
}

Result<Pty> Pty::open(unsigned short rows, unsigned short cols) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return errno_error(errno, "open a pty");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
    return errno_error(errno, "unlock the pty");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return errno_error(errno, "name the pty");
  UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return errno_error(errno, fmt::format("open {}", name));
  ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
  // Raw from the start: the runtime makes it raw too, but input written before it does so would
  // be echoed here and then again by the container's own pty.
  termios raw{};
  if (::tcgetattr(slave.get(), &raw) == 0) {
    ::cfmakeraw(&raw);
    ::tcsetattr(slave.get(), TCSANOW, &raw);
  }
  set_size(slave.get(), rows, cols);
  return Pty{std::move(master), std::move(slave)};
}

Result<RawMode> RawMode::enable(int fd) {
  termios saved{};
  if (!::isatty(fd) || ::tcgetattr(fd, &saved) != 0) return RawMode(-1, saved);
  termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) return errno_error(errno, "set the terminal to raw mode");
  return RawMode(fd, saved);
}

RawMode::~RawMode() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

bool copy_window_size(int from_tty, int to_pty) {
  winsize ws{};
  if (!::isatty(from_tty) || ::ioctl(from_tty, TIOCGWINSZ, &ws) != 0) return false;
  return ::ioctl(to_pty, TIOCSWINSZ, &ws) == 0;
}

Status pump_terminal(const TerminalIo& io, int master_fd) {
  std::optional<WinchPipe> winch;
  if (::isatty(io.in_fd)) {
    ZL_TRY_ASSIGN(auto w, WinchPipe::install());
    winch.emplace(std::move(w));
  }
  std::string pending;  // input not yet taken by the pty
  bool input_open = true;
  for (;;) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {master_fd, static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0};
    int in_idx = -1, winch_idx = -1;
    if (input_open && pending.empty()) {
      in_idx = static_cast<int>(n);
      fds[n++] = {io.in_fd, POLLIN, 0};
    }
    if (winch) {
      winch_idx = static_cast<int>(n);
      fds[n++] = {winch->fd(), POLLIN, 0};
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "poll terminal");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[16384];
      ssize_t r = ::read(master_fd, buf, sizeof buf);
      if (r > 0) {
        ZL_TRY(write_all(io.out_fd, std::string_view(buf, static_cast<size_t>(r)), "terminal output"));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        return {};  // EIO: no process holds the slave any more
      }
    }
    if (!pending.empty() && (fds[0].revents & POLLOUT)) {
      ssize_t w = ::write(master_fd, pending.data(), pending.size());
      if (w > 0) pending.erase(0, static_cast<size_t>(w));
    }
    if (in_idx >= 0 && (fds[in_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[4096];
      ssize_t r = ::read(io.in_fd, buf, sizeof buf);
      if (r > 0) {
        pending.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        input_open = false;
        pending.push_back('\x04');  // the pty's EOF: the process reading it sees end of input
      }
    }
    if (winch_idx >= 0 && (fds[winch_idx].revents & POLLIN)) {
      winch->drain();
      copy_window_size(io.in_fd, master_fd);
    }
  }
}

}  // namespace zl
