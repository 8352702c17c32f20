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

}  // namespace zl::api::docker
