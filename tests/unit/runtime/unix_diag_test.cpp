// pending_connections: a listener's accept queue as the kernel reports it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "runtime/linux/unix_diag.h"

namespace zl {
namespace {

UniqueFd unix_socket(const fs::path& path, bool listen) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  auto* a = reinterpret_cast<const sockaddr*>(&addr);
  bool ok = listen ? ::bind(fd.get(), a, sizeof addr) == 0 && ::listen(fd.get(), 4) == 0
                   : ::connect(fd.get(), a, sizeof addr) == 0;
  EXPECT_TRUE(ok) << std::strerror(errno);
  return fd;
}

TEST(UnixDiag, CountsConnectionsUntilAccepted) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-diag-");
  ASSERT_TRUE(dir);
  fs::path path = dir->path() / "attach";
  UniqueFd listener = unix_socket(path, true);
  EXPECT_EQ(pending_connections(path).value_or(99), 0u);
  UniqueFd a = unix_socket(path, false), b = unix_socket(path, false);
  EXPECT_EQ(pending_connections(path).value_or(99), 2u);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_EQ(pending_connections(path).value_or(99), 1u);
}

TEST(UnixDiag, NothingListeningIsNotFound) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-diag-");
  ASSERT_TRUE(dir);
  fs::path path = dir->path() / "attach";
  UniqueFd bound(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  auto r = pending_connections(path);  // bound, not listening
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_FALSE(pending_connections(dir->path() / "missing"));
}

}  // namespace
}  // namespace zl
