// The host <-> guest agent channel of isolation: vm, shared by both sides: frames on the VM's
// virtio-serial ports ("zlayer.<runtime id>", then "<that>.1" ...: calls side by side). A frame is a 4-byte
// big-endian length (of what follows), a type byte and the payload. One request at a time per connection; the
// host connects for each call (qemu's unix-socket chardev takes one client at a time).
//   'J' a JSON message: host -> guest a request {"op": ...}, guest -> host its answer
//   'O' / 'E'  an exec's stdout / stderr bytes (guest -> host)
//   'I'  stdin bytes for an exec (host -> guest); an empty 'I' closes its stdin
// Requests: {"op":"ping"} -> {"ok":true}
//           {"op":"signal","signal":N} -> {"ok":true} (N to the container's process)
//           {"op":"stats"} -> {"ok":true,"mem_total":B,"mem_available":B,"cpu_usage_usec":U,"pids":N}
//           {"op":"exec","args":[..],"env":[..],"cwd":"","uid":U,"gid":G,"stdin":bool}
//             -> 'O'/'E' frames, then {"ok":true,"exit_code":N} (127: not found, 126: not runnable)
// Errors: {"ok":false,"error":"..."}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zl::vmproto {

constexpr size_t kMaxFrame = 1 << 20;

inline std::string frame(char type, std::string_view payload) {
  uint32_t n = static_cast<uint32_t>(payload.size() + 1);
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(type);
  out.append(payload);
  return out;
}

// Takes one whole frame off the front of `buf` if there is one: true with type and payload set.
// A length of 0 or above kMaxFrame is a broken stream: `bad` is set.
inline bool take_frame(std::string& buf, char& type, std::string& payload, bool& bad) {
  bad = false;
  if (buf.size() < 4) return false;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(buf[i])); };
  uint32_t n = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  if (n == 0 || n > kMaxFrame) {
    bad = true;
    return false;
  }
  if (buf.size() < 4 + size_t{n}) return false;
  type = buf[4];
  payload.assign(buf, 5, n - 1);
  buf.erase(0, 4 + size_t{n});
  return true;
}

}  // namespace zl::vmproto
