#include "net/ipv4.h"

#include <charconv>

namespace zl::net {

Result<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t out = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    unsigned part = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), part);
    size_t used = static_cast<size_t>(p - rest.data());
    if (ec != std::errc() || used == 0 || used > 3 || part > 255)
      return invalid_argument("invalid IPv4 address \"{}\"", text);
    out = out << 8 | part;
    rest.remove_prefix(used);
    if (i < 3) {
      if (rest.empty() || rest[0] != '.') return invalid_argument("invalid IPv4 address \"{}\"", text);
      rest.remove_prefix(1);
    }
  }
  if (!rest.empty()) return invalid_argument("invalid IPv4 address \"{}\"", text);
  return out;
}

std::string format_ipv4(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

Result<Ipv4Net> Ipv4Net::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return invalid_argument("invalid subnet \"{}\": expected ADDRESS/PREFIX like 10.200.0.0/16", text);
  ZL_TRY_ASSIGN(uint32_t addr, parse_ipv4(text.substr(0, slash)).map_error([&](Error) {
    return Error{ErrorKind::invalid_argument,
                 fmt::format("invalid subnet \"{}\": expected ADDRESS/PREFIX like 10.200.0.0/16", text)};
  }));
  std::string_view bits = text.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (ec != std::errc() || p != bits.data() + bits.size() || prefix < 0 || prefix > 32)
    return invalid_argument("invalid subnet \"{}\": the prefix length must be 0 to 32", text);
  Ipv4Net n{addr, prefix};
  if ((addr & n.mask()) != addr)
    return invalid_argument("invalid subnet \"{}\": host bits are set (did you mean {}/{}?)", text,
                            format_ipv4(addr & n.mask()), prefix);
  return n;
}

std::string Ipv4Net::str() const { return fmt::format("{}/{}", format_ipv4(addr), prefix); }

Result<Ipv4Net> next_free_subnet(const Ipv4Net& range, int prefix, const std::vector<Ipv4Net>& used) {
  if (prefix < range.prefix || prefix > 30)
    return invalid_argument("cannot cut /{} subnets out of {}", prefix, range.str());
  uint64_t step = uint64_t{1} << (32 - prefix);
  for (uint64_t a = range.addr; a <= range.last(); a += step) {
    Ipv4Net cand{static_cast<uint32_t>(a), prefix};
    bool taken = false;
    for (const auto& u : used) taken = taken || cand.overlaps(u);
    if (!taken) return cand;
  }
  return unavailable("cluster range {} has no free /{} subnet left", range.str(), prefix);
}

}  // namespace zl::net
