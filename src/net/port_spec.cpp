#include "net/port_spec.h"

#include <charconv>

#include "net/ipv4.h"

namespace zl::net {

namespace {

Result<uint16_t> parse_port(std::string_view s, std::string_view text, std::string_view which) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535)
    return invalid_argument("invalid published port \"{}\": the {} port \"{}\" must be a number from 1 to 65535",
                            text, which, s);
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<PortMapping> parse_port_spec(std::string_view text) {
  PortMapping m;
  std::string_view spec = text;
  if (auto slash = spec.rfind('/'); slash != std::string_view::npos) {
    std::string proto(spec.substr(slash + 1));
    if (proto != "tcp" && proto != "udp")
      return invalid_argument("invalid published port \"{}\": protocol \"{}\" is not tcp or udp", text, proto);
    m.protocol = proto;
    spec = spec.substr(0, slash);
  }
  auto last = spec.rfind(':');
  if (last == std::string_view::npos)
    return invalid_argument(
        "invalid published port \"{}\": expected [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]", text);
  ZL_TRY_ASSIGN(m.container_port, parse_port(spec.substr(last + 1), text, "container"));
  std::string_view front = spec.substr(0, last);
  auto colon = front.rfind(':');
  std::string_view host_port = colon == std::string_view::npos ? front : front.substr(colon + 1);
  if (host_port.find('-') != std::string_view::npos)
    return invalid_argument("invalid published port \"{}\": port ranges are not supported", text);
  ZL_TRY_ASSIGN(m.host_port, parse_port(host_port, text, "host"));
  if (colon != std::string_view::npos) {
    std::string_view ip = front.substr(0, colon);
    if (!ip.empty()) {
      if (!parse_ipv4(ip)) return invalid_argument("invalid published port \"{}\": \"{}\" is not an IPv4 address", text, ip);
      m.host_ip = std::string(ip);
    }
  }
  return m;
}

std::string format_port_mapping(const PortMapping& p) {
  return fmt::format("{}:{}->{}/{}", p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port, p.container_port,
                     p.protocol);
}

}  // namespace zl::net
