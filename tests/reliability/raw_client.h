// Test-only: one connection to a unix socket, written and read raw (hostile bytes, stalled
// clients, load), and a request in HTTP/1.1 with Connection: close.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "common/fs.h"

namespace zl::testing {

// One connection to a unix socket, written raw.
class RawClient {
 public:
  explicit RawClient(const fs::path& socket) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;  // the daemon may close on us midway: that is an answer too
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Everything the daemon sends until it closes, or nullopt if it is still open after `wait`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds wait) {
    std::string out;
    auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n <= 0) return out;
      out.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
};

inline std::string request(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::string& headers = "Content-Type: application/json\r\n") {
  return method + " " + target + " HTTP/1.1\r\nHost: zlayer\r\nConnection: close\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The status of a raw answer; 0 when the daemon closed without one.
inline int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
  return std::stoi(answer.substr(9, 3));
}

}  // namespace zl::testing
