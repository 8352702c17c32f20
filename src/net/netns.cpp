#include "net/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace zl::net {

namespace fs = std::filesystem;

bool netns_mounted(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == static_cast<decltype(st.f_type)>(NSFS_MAGIC);
}

Result<NetNs> NetNs::create(const fs::path& path) {
  if (netns_mounted(path)) return already_exists("network namespace {} exists already", path.string());
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0) return errno_error(errno, "create network namespace file " + path.string());
  ::close(fd);
  NetNs ns(path);  // from here on the file goes again on failure
  // unshare() moves only the calling thread into the new namespace: a short-lived thread makes
  // it, binds it on `path`, and ends, leaving this thread where it was.
  int err = 0;
  std::string step;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      err = errno;
      step = "unshare(CLONE_NEWNET)";
      return;
    }
    // lo comes up here, in-process: the CNI loopback plugin would cost an exec per container.
    if (int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); sock >= 0) {
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      bool up = ::ioctl(sock, SIOCGIFFLAGS, &ifr) == 0;
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      up = up && ::ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
      int e = errno;
      ::close(sock);
      if (!up) {
        err = e;
        step = "bring up lo";
        return;
      }
    }
    std::string self = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
    if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      err = errno;
      step = "bind-mount " + self;
    }
  }).join();
  if (err) return errno_error(err, fmt::format("create network namespace {}: {}", path.string(), step));
  return ns;
}

NetNs::~NetNs() {
  if (!path_.empty()) (void)remove_netns(path_);
}

Status remove_netns(const fs::path& path) {
  // Unmount every layer (a crash between two creates could have bound it twice).
  for (int i = 0; i < 8 && netns_mounted(path); ++i) {
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      return errno_error(errno, "unmount network namespace " + path.string());
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return errno_error(errno, "delete network namespace file " + path.string());
  return {};
}

Status run_in_netns(const fs::path& ns_file, const std::function<Status()>& fn) {
  int nsfd = ::open(ns_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return errno_error(errno, "open network namespace " + ns_file.string());
  Status result;
  std::thread([&] {
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      result = errno_error(errno, "join network namespace " + ns_file.string());
      return;
    }
    result = fn();
  }).join();
  ::close(nsfd);
  return result;
}

}  // namespace zl::net
