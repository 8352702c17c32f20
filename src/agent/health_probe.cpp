#include "agent/health_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>


#include "common/fs.h"
#include "net/netns.h"

namespace zl {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Runs `fn` in the network namespace of the container's process `pid`.
// (With a VM's address, from where we are.)
Status in_netns(int pid, const std::string& vm_address, const std::function<Status()>& fn) {
  if (!vm_address.empty()) return fn();
  return net::run_in_netns(fmt::format("/proc/{}/ns/net", pid), fn);
}

Result<UniqueFd> connect_local(int port, Clock::time_point deadline, const std::string& vm_address) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!vm_address.empty() && ::inet_pton(AF_INET, vm_address.c_str(), &addr.sin_addr) != 1)
    return invalid_argument("bad address {}", vm_address);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return unavailable("tcp port {}: {}", port, std::strerror(errno));
    pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n == 0) return unavailable("tcp port {}: no connection within the timeout", port);
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return unavailable("tcp port {}: {}", port, std::strerror(err));
  }
  return fd;
}

}  // namespace

Status probe_tcp(int pid, int port, std::chrono::milliseconds timeout, const std::string& vm_address) {
  auto deadline = Clock::now() + timeout;
  return in_netns(pid, vm_address, [&]() -> Status {
    ZL_TRY_ASSIGN(auto fd, connect_local(port, deadline, vm_address));
    return {};
  });
}

Status probe_http(int pid, const std::string& url, int default_port, int expect_status,
                  std::chrono::milliseconds timeout, const std::string& vm_address) {
  auto deadline = Clock::now() + timeout;
  std::string host = "localhost", path = url;
  int port = default_port;
  if (url.starts_with("http://")) {
    std::string rest = url.substr(7);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    path = slash == std::string::npos ? "/" : rest.substr(slash);
    host = authority;
    if (auto colon = authority.rfind(':'); colon != std::string::npos) {
      try {
        port = std::stoi(authority.substr(colon + 1));
      } catch (...) {
        return invalid_argument("health check url {}: bad port", url);
      }
    } else {
      port = 80;
    }
  } else if (url.starts_with("https://")) {
    return unsupported("health check url {}: https checks are not supported; use http or tcp", url);
  }
  if (path.empty() || path[0] != '/') path = "/" + path;
  if (port <= 0 || port > 65535) return invalid_argument("health check url {}: no port to connect to", url);
  return in_netns(pid, vm_address, [&]() -> Status {
    ZL_TRY_ASSIGN(auto fd, connect_local(port, deadline, vm_address));
    std::string req = fmt::format(
        "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: zlayer-health\r\nConnection: close\r\n\r\n", path, host);
    size_t off = 0;
    std::string resp;
    char buf[1024];
    while (true) {
      short events = off < req.size() ? POLLOUT : POLLIN;
      pollfd p{.fd = fd.get(), .events = events, .revents = 0};
      int n = ::poll(&p, 1, remaining_ms(deadline));
      if (n <= 0) return unavailable("http check {}: no answer within the timeout", url);
      if (off < req.size()) {
        ssize_t w = ::send(fd.get(), req.data() + off, req.size() - off, MSG_NOSIGNAL);
        if (w < 0) return unavailable("http check {}: {}", url, std::strerror(errno));
        off += static_cast<size_t>(w);
        continue;
      }
      ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
      if (r < 0) return unavailable("http check {}: {}", url, std::strerror(errno));
      if (r == 0 || resp.find("\r\n") != std::string::npos) break;
      resp.append(buf, static_cast<size_t>(r));
      if (resp.find("\r\n") != std::string::npos) break;
    }
    // "HTTP/1.1 200 OK"
    auto sp = resp.find(' ');
    if (!resp.starts_with("HTTP/") || sp == std::string::npos || resp.size() < sp + 4)
      return unavailable("http check {}: not an HTTP answer", url);
    int status = std::atoi(resp.substr(sp + 1, 3).c_str());
    bool ok = expect_status == 200 ? status >= 200 && status < 400 : status == expect_status;
    if (!ok) return unavailable("http check {}: status {}", url, status);
    return {};
  });
}

}  // namespace zl
