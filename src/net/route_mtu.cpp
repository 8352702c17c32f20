#include "net/route_mtu.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "common/fs.h"

namespace zl::net {

namespace {

struct RouteRequest {
  nlmsghdr header;
  rtmsg route;
  char attrs[64];
};

void add_attr(RouteRequest& req, unsigned short type, const void* data, size_t len) {
  auto* attr = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.header.nlmsg_len));
  attr->rta_type = type;
  attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(attr), data, len);
  req.header.nlmsg_len = NLMSG_ALIGN(req.header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

}  // namespace

int host_uplink_mtu() {
  // /proc/net/route: "Iface Destination Gateway ..." in hex; the default route has 00000000.
  auto routes = read_file("/proc/net/route");
  if (!routes) return 1500;
  std::istringstream lines(*routes);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string iface, dest;
    if (!(fields >> iface >> dest) || dest != "00000000") continue;
    auto mtu = read_file("/sys/class/net/" + iface + "/mtu");
    if (mtu) {
      try {
        return std::stoi(*mtu);
      } catch (const std::exception&) {
      }
    }
  }
  return 1500;
}

Status set_default_route_mtu(const std::string& ifname, const std::string& gateway, int mtu) {
  auto what = [&] { return fmt::format("set the MTU of the default route via {} on {}", gateway, ifname); };
  uint32_t ifindex = ::if_nametoindex(ifname.c_str());
  if (ifindex == 0) return errno_error(errno, what());
  in_addr gw{};
  if (::inet_pton(AF_INET, gateway.c_str(), &gw) != 1) return invalid_argument("{}: not an IPv4 address", what());

  RouteRequest req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.header.nlmsg_type = RTM_NEWROUTE;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  req.header.nlmsg_seq = 1;
  req.route.rtm_family = AF_INET;
  req.route.rtm_table = RT_TABLE_MAIN;
  req.route.rtm_protocol = RTPROT_BOOT;
  req.route.rtm_scope = RT_SCOPE_UNIVERSE;
  req.route.rtm_type = RTN_UNICAST;
  add_attr(req, RTA_GATEWAY, &gw, sizeof gw);
  add_attr(req, RTA_OIF, &ifindex, sizeof ifindex);
  // RTA_METRICS holds attributes of its own: one, RTAX_MTU.
  char metrics[RTA_SPACE(sizeof(uint32_t))] = {};
  auto* metric = reinterpret_cast<rtattr*>(metrics);
  metric->rta_type = RTAX_MTU;
  metric->rta_len = RTA_LENGTH(sizeof(uint32_t));
  uint32_t value = static_cast<uint32_t>(mtu);
  std::memcpy(RTA_DATA(metric), &value, sizeof value);
  add_attr(req, RTA_METRICS, metrics, sizeof metrics);

  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) return errno_error(errno, what());
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock.get(), &req, req.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return errno_error(errno, what());
  char reply[512];
  ssize_t n = ::recv(sock.get(), reply, sizeof reply, 0);
  if (n < 0) return errno_error(errno, what());
  auto* answer = reinterpret_cast<nlmsghdr*>(reply);
  if (!NLMSG_OK(answer, static_cast<unsigned>(n)) || answer->nlmsg_type != NLMSG_ERROR)
    return internal("{}: unexpected answer from the kernel", what());
  int err = -static_cast<nlmsgerr*>(NLMSG_DATA(answer))->error;
  if (err != 0) return errno_error(err, what());
  return {};
}

}  // namespace zl::net
