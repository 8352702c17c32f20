#include "runtime/windows/portable/guid.h"

#include <random>

namespace zl::win {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dash positions in the 36-character form.
bool is_dash_at(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

bool Guid::is_nil() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

std::string Guid::str(bool with_braces) const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(38);
  if (with_braces) out += '{';
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  if (with_braces) out += '}';
  return out;
}

Result<Guid> parse_guid(std::string_view text) {
  std::string_view s = text;
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() != 36)
    return invalid_argument("invalid GUID \"{}\": want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", text);
  Guid g;
  size_t byte = 0;
  for (size_t i = 0; i < s.size();) {
    if (is_dash_at(i)) {
      if (s[i] != '-') return invalid_argument("invalid GUID \"{}\": a dash is missing at {}", text, i);
      ++i;
      continue;
    }
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0 || is_dash_at(i + 1))
      return invalid_argument("invalid GUID \"{}\": not a hex digit at {}", text, hi < 0 ? i : i + 1);
    g.bytes[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return g;
}

Guid random_guid() {
  static thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  Guid g;
  for (size_t i = 0; i < g.bytes.size(); i += 8) {
    uint64_t v = gen();
    for (size_t j = 0; j < 8; ++j) g.bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  g.bytes[6] = static_cast<uint8_t>((g.bytes[6] & 0x0f) | 0x40);  // version 4
  g.bytes[8] = static_cast<uint8_t>((g.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return g;
}

Result<Guid> guid_from_digest(std::string_view digest) {
  auto colon = digest.find(':');
  std::string_view hex = colon == std::string_view::npos ? digest : digest.substr(colon + 1);
  if (hex.size() < 32) return invalid_argument("layer digest \"{}\" is too short for a layer id", digest);
  Guid g;
  for (size_t i = 0; i < 16; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid_argument("layer digest \"{}\" is not hex", digest);
    g.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return g;
}

}  // namespace zl::win
