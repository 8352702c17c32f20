#include "net/attachment.h"

namespace zl::net {

using json = nlohmann::json;

std::string_view to_string(NetworkMode m) {
  switch (m) {
    case NetworkMode::bridge: return "bridge";
    case NetworkMode::none: return "none";
    case NetworkMode::host: return "host";
    case NetworkMode::container: return "container";
  }
  return "bridge";
}

json to_json(const ContainerNetwork& n) {
  json eps = json::array();
  for (const auto& e : n.endpoints)
    eps.push_back({{"network", e.network},
                   {"network_id", e.network_id},
                   {"ifname", e.ifname},
                   {"address", e.address},
                   {"prefix_len", e.prefix_len},
                   {"gateway", e.gateway},
                   {"mac", e.mac},
                   {"dns_names", e.dns_names},
                   {"cni_config", e.cni_config},
                   {"runtime_config", e.runtime_config},
                   {"cni_result", e.cni_result}});
  json ports = json::array();
  for (const auto& p : n.ports)
    ports.push_back({{"host_ip", p.host_ip},
                     {"host_port", p.host_port},
                     {"container_port", p.container_port},
                     {"protocol", p.protocol}});
  return {{"mode", to_string(n.mode)}, {"netns", n.netns}, {"joined", n.joined}, {"endpoints", eps}, {"ports", ports}};
}

Result<ContainerNetwork> container_network_from_json(const json& j) {
  try {
    ContainerNetwork n;
    std::string mode = j.at("mode").get<std::string>();
    if (mode == "bridge") n.mode = NetworkMode::bridge;
    else if (mode == "none") n.mode = NetworkMode::none;
    else if (mode == "host") n.mode = NetworkMode::host;
    else if (mode == "container") n.mode = NetworkMode::container;
    else return invalid_argument("unknown network mode \"{}\"", mode);
    n.netns = j.value("netns", "");
    n.joined = j.value("joined", "");
    for (const auto& e : j.value("endpoints", json::array())) {
      NetworkEndpoint ep;
      ep.network = e.at("network").get<std::string>();
      ep.network_id = e.value("network_id", "");
      ep.ifname = e.at("ifname").get<std::string>();
      ep.address = e.value("address", "");
      ep.prefix_len = e.value("prefix_len", 0);
      ep.gateway = e.value("gateway", "");
      ep.mac = e.value("mac", "");
      ep.dns_names = e.value("dns_names", std::vector<std::string>{});
      ep.cni_config = e.value("cni_config", json());
      ep.runtime_config = e.value("runtime_config", json());
      ep.cni_result = e.value("cni_result", json());
      n.endpoints.push_back(std::move(ep));
    }
    for (const auto& p : j.value("ports", json::array()))
      n.ports.push_back({p.value("host_ip", ""), p.at("host_port").get<uint16_t>(),
                         p.at("container_port").get<uint16_t>(), p.value("protocol", "tcp")});
    return n;
  } catch (const json::exception& e) {
    return corrupt("network attachment record is damaged: {}", e.what());
  }
}

}  // namespace zl::net
