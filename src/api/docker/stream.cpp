#include "api/docker/stream.h"

#include <cstdint>

namespace zl::api::docker {

std::string frame(StreamKind kind, std::string_view data) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(kind);
  auto n = static_cast<uint32_t>(data.size());
  out[4] = static_cast<char>((n >> 24) & 0xff);
  out[5] = static_cast<char>((n >> 16) & 0xff);
  out[6] = static_cast<char>((n >> 8) & 0xff);
  out[7] = static_cast<char>(n & 0xff);
  out.append(data);
  return out;
}

Result<UnixSocket> hijack(Responder& res, bool tty, std::string& pending) {
  return res.upgrade(101,
                     {{"Content-Type", tty ? "application/vnd.docker.raw-stream"
                                           : "application/vnd.docker.multiplexed-stream"},
                      {"Connection", "Upgrade"},
                      {"Upgrade", "tcp"}},
                     pending);
}

}  // namespace zl::api::docker
