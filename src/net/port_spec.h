// Published ports: `-p [hostip:]hostport:containerport[/tcp|udp]` (docker's form) and what a
// container asks for, as CNI's portmap plugin takes it (runtimeConfig.portMappings).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl {

struct PortMapping {
  std::string host_ip;  // empty: every host address
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // tcp | udp
  friend bool operator==(const PortMapping&, const PortMapping&) = default;
};

namespace net {

// "8080:80", "127.0.0.1:8080:80/udp". A port range or a missing host port is invalid_argument
// naming the flag text.
Result<PortMapping> parse_port_spec(std::string_view text);
// "127.0.0.1:8080->80/tcp" (docker ps's PORTS column); "0.0.0.0" for every address.
std::string format_port_mapping(const PortMapping& p);

}  // namespace net
}  // namespace zl
