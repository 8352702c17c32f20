// Interactive containers through the zlayer binary: `run -i` with piped stdin, `run -it` on a pty
// the test drives like a user's terminal, and `start -ai`; the exit code is the container's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "fixtures/container_cli.h"

namespace zl::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A terminal the test holds the master side of, like a terminal emulator: zlayer runs on the
// slave (its stdin, stdout, stderr and controlling terminal), in the usual cooked mode.
class Terminal {
 public:
  static Terminal open(unsigned short rows, unsigned short cols) {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    EXPECT_TRUE(master && ::grantpt(master.get()) == 0 && ::unlockpt(master.get()) == 0) << strerror(errno);
    Terminal t(std::move(master));
    t.resize(rows, cols);
    return t;
  }

  Child spawn(const std::vector<std::string>& argv) {
    UniqueFd slave(::open(::ptsname(master_.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    EXPECT_TRUE(slave) << strerror(errno);
    SpawnOptions o;
    o.stdin_fd = o.stdout_fd = o.stderr_fd = slave.get();
    o.new_session = o.controlling_tty = true;
    auto child = Child::spawn(argv, o);
    EXPECT_TRUE(child) << child.error().message;
    return std::move(*child);  // our copy of the slave closes: the master reads EIO once zlayer is gone
  }

  void resize(unsigned short rows, unsigned short cols) {
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ::ioctl(master_.get(), TIOCSWINSZ, &ws);  // the slave's foreground group gets SIGWINCH
  }

  void type(std::string_view keys) { ASSERT_TRUE(write_all(master_.get(), keys, "pty master")); }

  // Reads until `needle` is in the output (true), or the timeout passes or zlayer is gone (false).
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (output_.find(needle) == std::string::npos) {
      if (!read_more(deadline)) return false;
    }
    return true;
  }
  // Reads everything until zlayer, the last holder of the slave, is gone.
  void read_to_end(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (read_more(deadline)) {
    }
  }

  const std::string& output() const { return output_; }
  termios modes() const {
    termios t{};
    ::tcgetattr(master_.get(), &t);
    return t;
  }

 private:
  explicit Terminal(UniqueFd master) : master_(std::move(master)) {}
  // One read of what is there; false once the deadline has passed or the slave is closed (EIO).
  bool read_more(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || closed_) return false;
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n > 0) output_.append(buf, static_cast<size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) closed_ = true;
    return !closed_;
  }

  UniqueFd master_;
  std::string output_;
  bool closed_ = false;
};

using CliAttach = ContainerCliTest;

TEST_F(CliAttach, RunInteractivePipesStdinIntoTheContainer) {
  auto r = zlayer({"run", "-i", "--rm", "busybox:1.0", "cat"}, "hello\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "") << "--rm removed it";
}

TEST_F(CliAttach, EndOfInputClosesTheContainersStdinAndStreamsStayApart) {
  auto r = zlayer({"run", "-i", "--rm", "busybox:1.0", "sh", "-c", "cat; echo done >&2"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "done\n");
}

TEST_F(CliAttach, RunInteractiveReturnsTheContainersExitCode) {
  auto r = zlayer({"run", "-i", "--rm", "busybox:1.0", "sh", "-c", "read x; echo got:$x; exit 4"}, "abc\n");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(r.out, "got:abc\n");
}

TEST_F(CliAttach, LargeInputRoundTripsWithoutStalling) {
  // More than every pipe and socket buffer on the way holds: input and output must flow together.
  std::string input;
  for (int i = 0; input.size() < (4u << 20); ++i) input += "line " + std::to_string(i) + "\n";
  auto t0 = Clock::now();
  auto r = zlayer({"run", "-i", "--rm", "busybox:1.0", "cat"}, input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input) << "the output differs from the input";
  EXPECT_LT(Clock::now() - t0, 30s);
}

TEST_F(CliAttach, RunWithTerminalGivesTheContainerARealTtyOfOurSize) {
  auto term = Terminal::open(30, 100);
  Child zl = term.spawn(argv({"run", "-it", "--rm", "busybox:1.0", "sh"}));
  ASSERT_TRUE(term.read_until("# ", 30s)) << "no shell prompt: " << term.output();
  EXPECT_FALSE(term.modes().c_lflag & ECHO) << "our terminal is raw while attached";
  term.type("stty size; tty\r");
  EXPECT_TRUE(term.read_until("30 100\r\n/dev/pts/", 10s)) << term.output();

  // A resize of our terminal reaches the container's (SIGWINCH -> conmon's ctl fifo).
  term.resize(40, 120);
  bool resized = false;
  for (int i = 0; i < 10 && !resized; ++i) {
    term.type("stty size\r");
    resized = term.read_until("40 120\r\n", 1s);
  }
  EXPECT_TRUE(resized) << term.output();

  term.type("echo $((6*7)); exit 5\r");
  term.read_to_end(30s);
  auto exit = zl.wait_for(30s);
  ASSERT_TRUE(exit && *exit) << "zlayer did not exit: " << term.output();
  EXPECT_EQ((*exit)->code(), 5) << term.output();
  EXPECT_NE(term.output().find("\r\n42\r\n"), std::string::npos) << term.output();
  termios modes = term.modes();
  EXPECT_TRUE((modes.c_lflag & ECHO) && (modes.c_lflag & ICANON)) << "our terminal's modes are back";
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
}

TEST_F(CliAttach, StartAttachInteractiveRunsACreatedContainerAndRunsItAgain) {
  auto c =
      zlayer({"create", "-i", "--name", "asker", "busybox:1.0", "sh", "-c", "read x; echo got:$x; exit 3"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto first = zlayer({"start", "-ai", "asker"}, "one\n");
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_EQ(first.out, "got:one\n");
  auto again = zlayer({"start", "-ai", "asker"}, "two\n");  // exited: it runs again, attached
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_EQ(again.out, "got:two\n");
  EXPECT_EQ(zlayer({"logs", "asker"}).out, "got:one\ngot:two\n") << "the log has both runs as well";
  EXPECT_EQ(zlayer({"rm", "asker"}).exit_code, 0);
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

class CliAttachCommand : public ContainerCliTest {};

TEST_F(CliAttachCommand, FollowsARunningContainerToItsExitCode) {
  auto id = zlayer({"run", "-d", "busybox:1.0", "sh", "-c", "sleep 1; echo from-inside; echo to-stderr >&2; exit 5"});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  auto a = zlayer({"attach", "--no-stdin", id.out.substr(0, 12)});
  EXPECT_EQ(a.exit_code, 5) << a.err;
  EXPECT_EQ(a.out, "from-inside\n");
  EXPECT_EQ(a.err, "to-stderr\n");
  auto again = zlayer({"attach", id.out.substr(0, 12)});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("is not running"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace zl::testing
