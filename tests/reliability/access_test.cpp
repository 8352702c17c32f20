// Access: the API socket refuses an unprivileged user (with every directory above it open, so
// that only the socket's own mode stands in the way), and a default container cannot mount,
// unshare or reboot, runs under seccomp, gets no_new_privileges when asked, and opens raw
// sockets only with NET_RAW.
#include <sys/stat.h>

#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

class Access : public ReliabilityTest {};

// Connects to a unix socket as `uid` (setpriv): the exit code of a python3 connect().
int connect_as(const std::string& uid, const fs::path& socket) {
  std::vector<std::string> argv = {"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "python3", "-c",
                                   "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
                                   socket.string()};
  if (uid == "0") argv.erase(argv.begin(), argv.begin() + 4);
  return host_command(argv).first;
}

TEST_F(Access, AnUnprivilegedUserCannotConnectToTheApiSocket) {
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  for (fs::path p = socket().parent_path(); p != fs::path("/"); p = p.parent_path()) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    ::chmod(p.c_str(), (st.st_mode & 07777) | 0711);  // traversable by anyone
  }
  EXPECT_EQ(connect_as("0", socket()), 0) << "root connects";
  EXPECT_NE(connect_as("65534", socket()), 0) << "nobody is refused";
  auto [code, out] = host_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ZLAYER_BINARY,
                                   "--root", root_.string(), "status"});
  EXPECT_NE(code, 0) << out;
  EXPECT_EQ(api("GET", "/v1/ping").status, 200) << "the daemon is unharmed";
}

struct Probe {
  const char* what;
  const char* script;  // exit 0 when the forbidden thing worked
};

TEST_F(Access, ADefaultContainerCannotMountUnshareOrReboot) {
  const Probe probes[] = {
      {"mount", "busybox mount -t tmpfs none /mnt"},
      {"unshare", "busybox unshare -m true"},
      {"unshare user ns", "busybox unshare -U true"},
      {"reboot", "busybox reboot -f"},
      {"nsenter host", "busybox nsenter -t 1 -m true"},
  };
  auto run = zlayer({"run", "-d", "--name", "plain", "busybox:1.0", "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const auto& p : probes) {
    auto r = zlayer({"exec", "plain", "sh", "-c", p.script});
    EXPECT_NE(r.exit_code, 0) << p.what << " worked in a default container: " << r.out << r.err;
  }
  auto status = zlayer({"exec", "plain", "cat", "/proc/1/status"});
  EXPECT_NE(status.out.find("Seccomp:\t2"), std::string::npos) << "seccomp filter in force: " << status.out;
  EXPECT_NE(zlayer({"ps", "-q"}).out.find(run.out.substr(0, 12)), std::string::npos) << "alive after the reboot";
  // no_new_privileges: docker's default leaves it off (setuid programs work); asked, it is set.
  auto nnp = zlayer({"run", "--rm", "--security-opt", "no-new-privileges", "busybox:1.0", "cat", "/proc/self/status"});
  EXPECT_NE(nnp.out.find("NoNewPrivs:\t1"), std::string::npos) << nnp.out << nnp.err;

  // Raw sockets: docker's default set keeps NET_RAW; without it they are refused.
  auto dropped = zlayer({"run", "--rm", "--cap-drop", "NET_RAW", "busybox:1.0", "busybox", "ping", "-c", "1", "-W", "1",
                         "127.0.0.1"});
  EXPECT_NE(dropped.exit_code, 0) << dropped.out << dropped.err;
  auto with = zlayer({"run", "--rm", "busybox:1.0", "busybox", "ping", "-c", "1", "-W", "1", "127.0.0.1"});
  EXPECT_EQ(with.exit_code, 0) << "NET_RAW is in the default set (docker's): " << with.out << with.err;
}

}  // namespace
}  // namespace zl::testing
