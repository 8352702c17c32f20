#include "net/network_json.h"

#include "common/time_format.h"
#include "net/ipv4.h"

namespace zl::net {

using nlohmann::json;

Result<json> docker_network_json(NetworkManager& nm, const NetworkRecord& n,
                                 const std::function<std::string(const std::string&)>& container_name) {
  json containers = json::object();
  ZL_TRY_ASSIGN(auto users, nm.network_users(n.name));
  for (const auto& id : users) {
    auto rec = nm.load(id);
    if (!rec || !*rec) continue;
    for (const auto& ep : (*rec)->endpoints) {
      if (ep.network != n.name) continue;
      containers[id] = {{"Name", container_name(id)},
                        {"IPv4Address", fmt::format("{}/{}", ep.address, ep.prefix_len)},
                        {"MacAddress", ep.mac},
                        {"EndpointInterface", ep.ifname}};
    }
  }
  return json{
      {"Name", n.name},
      {"Id", n.id},
      {"Created", rfc3339_seconds(n.created_at)},
      {"Scope", "local"},
      {"Driver", n.driver},
      {"EnableIPv6", false},
      {"Internal", false},
      {"Attachable", true},
      {"IPAM",
       {{"Driver", "host-local"},
        {"Config", json::array({{{"Subnet", n.subnet.str()}, {"Gateway", format_ipv4(n.gateway)}}})}}},
      {"Options", {{"bridge", n.bridge}}},
      {"Default", n.is_default},
      {"Containers", containers},
      {"Labels", json::object()}};
}

}  // namespace zl::net
