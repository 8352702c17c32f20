// IPv4 addresses and networks as numbers: parsing "10.200.0.0/16", containment, overlap, and
// the slicing of a cluster range into per-network subnets (the node's slice, user networks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl::net {

// "10.0.0.1" -> host-order number; invalid_argument otherwise.
Result<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t addr);

struct Ipv4Net {
  uint32_t addr = 0;  // the network address (host bits zero)
  int prefix = 0;     // 0..32

  // "10.200.0.0/16". Host bits set ("10.200.0.1/16") are invalid_argument, as a subnet must name a network.
  static Result<Ipv4Net> parse(std::string_view text);
  std::string str() const;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t last() const { return addr | ~mask(); }
  bool contains(uint32_t ip) const { return (ip & mask()) == addr; }
  bool contains(const Ipv4Net& n) const { return n.prefix >= prefix && contains(n.addr); }
  bool overlaps(const Ipv4Net& n) const { return contains(n.addr) || n.contains(addr); }
  // The first host address: the gateway zlayer gives a bridge network.
  uint32_t gateway() const { return addr + 1; }
  friend bool operator==(const Ipv4Net&, const Ipv4Net&) = default;
};

// The first subnet of `prefix` bits inside `range` that overlaps none of `used`; unavailable
// ("cluster range 10.200.0.0/16 has no free /24 left") when there is none.
Result<Ipv4Net> next_free_subnet(const Ipv4Net& range, int prefix, const std::vector<Ipv4Net>& used);

}  // namespace zl::net
