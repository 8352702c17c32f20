// A NETLINK_SOCK_DIAG dump of the listening unix sockets, matched to a path by its inode.
#include "runtime/linux/unix_diag.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace zl {

namespace {

constexpr uint32_t kListenState = 10;  // TCP_LISTEN, the state of a listening unix socket

template <class T>
std::optional<T> payload(const char* data, size_t len) {
  if (len < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, data, sizeof v);
  return v;
}

// The accept queue length of one dumped socket when it is the one bound at (dev, ino).
std::optional<uint32_t> queue_if_match(const char* msg, size_t len, const struct stat& st) {
  if (len < sizeof(unix_diag_msg)) return std::nullopt;
  std::optional<unix_diag_vfs> vfs;
  std::optional<unix_diag_rqlen> rqlen;
  size_t off = NLMSG_ALIGN(sizeof(unix_diag_msg));
  while (off + sizeof(rtattr) <= len) {
    auto attr = *payload<rtattr>(msg + off, len - off);
    if (attr.rta_len < sizeof(rtattr) || off + attr.rta_len > len) break;
    const char* data = msg + off + RTA_LENGTH(0);
    size_t data_len = attr.rta_len - RTA_LENGTH(0);
    if (attr.rta_type == UNIX_DIAG_VFS) vfs = payload<unix_diag_vfs>(data, data_len);
    if (attr.rta_type == UNIX_DIAG_RQLEN) rqlen = payload<unix_diag_rqlen>(data, data_len);
    off += RTA_ALIGN(attr.rta_len);
  }
  // The kernel reports the raw dev_t of the socket file's filesystem: 12 bits major, 20 minor.
  if (!vfs || !rqlen || vfs->udiag_vfs_ino != st.st_ino || vfs->udiag_vfs_dev >> 20 != major(st.st_dev) ||
      (vfs->udiag_vfs_dev & 0xfffff) != minor(st.st_dev))
    return std::nullopt;
  return rqlen->udiag_rqueue;  // for a listening socket: the connections not yet accepted
}

}  // namespace

Result<uint32_t> pending_connections(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(errno, "stat " + path.string());
  UniqueFd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) return errno_error(errno, "open a sock_diag netlink socket");
  struct {
    nlmsghdr header;
    unix_diag_req req;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.req.sdiag_family = AF_UNIX;
  request.req.udiag_states = 1u << kListenState;
  request.req.udiag_show = UDIAG_SHOW_VFS | UDIAG_SHOW_RQLEN;
  if (::send(nl.get(), &request, sizeof request, 0) < 0)
    return errno_error(errno, "ask sock_diag for unix sockets");

  std::optional<uint32_t> found;
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = ::recv(nl.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "read sock_diag's answer");
    for (size_t off = 0; off + sizeof(nlmsghdr) <= static_cast<size_t>(n);) {
      auto h = *payload<nlmsghdr>(buf.data() + off, static_cast<size_t>(n) - off);
      if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > static_cast<size_t>(n)) break;
      const char* body = buf.data() + off + NLMSG_HDRLEN;
      size_t body_len = h.nlmsg_len - NLMSG_HDRLEN;
      if (h.nlmsg_type == NLMSG_DONE) {
        if (found) return *found;
        return not_found("no unix socket listens at {}", path.string());
      }
      if (h.nlmsg_type == NLMSG_ERROR) {
        auto err = payload<nlmsgerr>(body, body_len);
        return errno_error(err ? -err->error : EIO, "dump unix sockets through sock_diag");
      }
      if (auto q = queue_if_match(body, body_len, st)) found = q;
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
  }
}

}  // namespace zl
