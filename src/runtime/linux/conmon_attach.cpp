// Attaching to a conmon-run container: its attach socket wired to our fds (output split by
// stream, input passed on packet by packet), our terminal raw and its size sent to the ctl fifo.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/linux/conmon_protocol.h"
#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/pty.h"
#include "runtime/linux/unix_diag.h"

namespace zl {

namespace {

constexpr size_t kInputChunk = 16384;    // bytes of input per packet, under kAttachInputPacketMax
constexpr size_t kOutputBuffer = 65536;  // a packet longer than this would be cut
static_assert(kOutputBuffer >= kAttachOutputPacketMax && kInputChunk <= kAttachInputPacketMax);

// Connects to conmon's attach socket. The address goes through /proc/self/fd of the socket's
// directory, as conmon binds it, so a long container dir still fits in sun_path.
Result<UniqueFd> connect_attach_socket(const fs::path& socket) {
  UniqueFd dir(::open(socket.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return errno_error(errno, "open " + socket.parent_path().string());
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error(errno, "create a unix socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir.get(), socket.filename().string());
  if (path.size() >= sizeof addr.sun_path) return internal("attach socket name {} is too long", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return unavailable("no conmon listens on {}: the container is not running", socket.string());
    return errno_error(err, "connect to " + socket.string());
  }
  if (::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0)
    return errno_error(errno, "make the attach socket non-blocking");
  return fd;
}

// conmon accepts in its event loop and sends output only to the clients it has accepted: before
// the container starts, wait (2 s at most) until our connection has left the listener's queue.
void wait_until_accepted(const fs::path& socket) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    auto pending = pending_connections(socket);  // an error: cannot tell, go on
    if (!pending || *pending == 0 || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::microseconds(250));
  }
}

// The terminal whose size the container's pty follows: our input's, else our output's; -1: none.
int size_source(const AttachIo& io) {
  if (io.in_fd >= 0 && ::isatty(io.in_fd)) return io.in_fd;
  return ::isatty(io.out_fd) ? io.out_fd : -1;
}

// Passes our terminal's size on to conmon, which resizes the container's pty. Quietly nothing
// when there is no size yet or conmon is gone (the copy loop notices that by itself).
void send_window_size(ConmonRuntime& conmon, int tty, const ContainerPaths& paths) {
  winsize ws{};
  if (::ioctl(tty, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return;
  (void)conmon.resize(paths, ws.ws_row, ws.ws_col);
}

// The copy loop of one attachment, until conmon hangs up. Input goes one packet at a time and
// only when the socket takes it: conmon stops reading while the container's stdin is full, and
// we must keep reading its output meanwhile or both sides would wait for each other.
class AttachPump {
 public:
  AttachPump(int sock, const AttachIo& io) : sock_(sock), io_(io), reading_input_(io.in_fd >= 0) {}

  // While pumping, a SIGWINCH calls `resize`.
  void follow_resizes(const WinchPipe* winch, std::function<void()> resize) {
    winch_ = winch;
    resize_ = std::move(resize);
  }

  Status run() {
    for (;;) {
      pollfd fds[3];
      nfds_t n = 0;
      fds[n++] = {sock_, static_cast<short>(POLLIN | (pending_.empty() ? 0 : POLLOUT)), 0};
      int in = -1, winch = -1;
      if (reading_input_ && pending_.empty()) {
        in = static_cast<int>(n);
        fds[n++] = {io_.in_fd, POLLIN, 0};
      }
      if (winch_) {
        winch = static_cast<int>(n);
        fds[n++] = {winch_->fd(), POLLIN, 0};
      }
      if (::poll(fds, n, -1) < 0) {
        if (errno == EINTR) continue;
        return errno_error(errno, "poll the attach socket");
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ZL_TRY_ASSIGN(bool open, copy_output());
        if (!open) return {};
      }
      if (in >= 0 && (fds[in].revents & (POLLIN | POLLHUP | POLLERR))) read_input();
      ZL_TRY(send_input());
      if (winch >= 0 && (fds[winch].revents & POLLIN)) {
        winch_->drain();
        resize_();
      }
    }
  }

 private:
  // One packet of output to its stream's fd; false once conmon has hung up (the container has
  // exited and its output is drained).
  Result<bool> copy_output() {
    ssize_t r = ::recv(sock_, buf_.data(), buf_.size(), 0);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) return true;
      if (errno == ECONNRESET) return false;
      return errno_error(errno, "read the attach socket");
    }
    if (r == 0) return false;
    std::string_view data(buf_.data() + 1, static_cast<size_t>(r) - 1);
    switch (static_cast<AttachStream>(buf_[0])) {
      case AttachStream::stdout_stream:
        ZL_TRY(write_all(io_.out_fd, data, "the container's output"));
        break;
      case AttachStream::stderr_stream:
        ZL_TRY(write_all(io_.err_fd, data, "the container's error output"));
        break;
      default:
        break;  // nothing else is sent to attached clients
    }
    return true;
  }

  void read_input() {
    char buf[kInputChunk];
    ssize_t r = ::read(io_.in_fd, buf, sizeof buf);
    if (r > 0) {
      pending_.assign(buf, static_cast<size_t>(r));
      return;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    reading_input_ = false;  // end of input, or an error that ends it (EIO: our terminal is gone)
    closing_ = true;
    if (io_.tty) pending_ = "\x04";  // the pty's EOF, for the process reading it
  }

  // Sends the pending packet if the socket takes it now; after the last, closes the container's
  // stdin (conmon does so when we shut down our side).
  Status send_input() {
    if (!pending_.empty()) {
      ssize_t w = ::send(sock_, pending_.data(), pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && (errno == EAGAIN || errno == EINTR)) return {};
      if (w < 0 && errno != EPIPE && errno != ECONNRESET)
        return errno_error(errno, "send input to the container");
      // A packet goes whole or not at all. On EPIPE conmon takes no more input, but output may
      // still come.
      if (w < 0) reading_input_ = closing_ = false;
      pending_.clear();
    }
    if (closing_) {
      ::shutdown(sock_, SHUT_WR);
      closing_ = false;
    }
    return {};
  }

  int sock_;
  const AttachIo& io_;
  bool reading_input_;
  bool closing_ = false;  // input ended: shut down our side once pending_ is sent
  std::string pending_;   // one packet of input the socket has not taken yet
  const WinchPipe* winch_ = nullptr;
  std::function<void()> resize_;
  std::vector<char> buf_ = std::vector<char>(kOutputBuffer);
};

}  // namespace

Status ConmonRuntime::attach(const ContainerPaths& paths, const AttachIo& io,
                             const std::function<Status()>& attached) {
  ZL_TRY_ASSIGN(auto sock, connect_attach_socket(paths.attach_socket()));
  std::optional<WinchPipe> winch;  // with a tty and a terminal of ours, whose size the pty follows
  int tty = io.tty ? size_source(io) : -1;
  if (tty >= 0) {
    ZL_TRY_ASSIGN(auto w, WinchPipe::install());
    winch.emplace(std::move(w));
    send_window_size(*this, tty, paths);
  }
  std::optional<RawMode> raw;  // our terminal back as it was on every way out
  if (io.tty && io.in_fd >= 0) {
    ZL_TRY_ASSIGN(auto r, RawMode::enable(io.in_fd));
    raw.emplace(std::move(r));
  }
  if (attached) {
    wait_until_accepted(paths.attach_socket());
    ZL_TRY(attached());
  }
  AttachPump pump(sock.get(), io);
  if (winch) pump.follow_resizes(&*winch, [&] { send_window_size(*this, tty, paths); });
  return pump.run();
}

Status ConmonRuntime::resize(const ContainerPaths& paths, unsigned short rows, unsigned short cols) {
  if (rows == 0 || cols == 0) return invalid_argument("terminal size {}x{}: both must be at least 1", rows, cols);
  UniqueFd fd(::open(paths.ctl_fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd && (errno == ENXIO || errno == ENOENT)) return unavailable("the container's monitor is gone");
  if (!fd) return errno_error(errno, "open conmon's ctl fifo");
  return write_all(fd.get(), resize_message(rows, cols), "conmon's ctl fifo");
}

}  // namespace zl
