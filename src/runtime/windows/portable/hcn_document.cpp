#include "runtime/windows/portable/hcn_document.h"

namespace zl::win {
namespace {

nlohmann::json schema_v2() {
  return {{"Major", 2}, {"Minor", 0}};
}

std::string endpoint_prefix() {
  return std::string(kOwner) + "-";
}

}  // namespace

Result<NodeNetwork> NodeNetwork::make(std::string_view cluster_cidr, std::string_view slice_cidr) {
  auto cluster = net::Ipv4Net::parse(cluster_cidr);
  if (!cluster) return tl::unexpected(cluster.error().wrap("cluster range"));
  auto slice = net::Ipv4Net::parse(slice_cidr);
  if (!slice) return tl::unexpected(slice.error().wrap("node slice"));
  if (!cluster->contains(*slice))
    return invalid_argument("node slice {} is not inside the cluster range {}", slice->str(), cluster->str());
  if (slice->prefix > 30)
    return invalid_argument(
        "node slice {} is too small: it needs a gateway and container addresses (/30 or larger)",
        slice->str());
  return NodeNetwork{*cluster, *slice};
}

Status NodeNetwork::check_container_address(uint32_t addr) const {
  if (!slice.contains(addr))
    return invalid_argument("address {} is outside the node's slice {}", net::format_ipv4(addr), slice.str());
  if (addr == slice.addr || addr == gateway() || addr == slice.last())
    return invalid_argument("address {} is the network, gateway or broadcast address of {}",
                            net::format_ipv4(addr), slice.str());
  return {};
}

nlohmann::json overlay_network_document(const NodeNetwork& node, std::string_view adapter) {
  nlohmann::json subnet = {{"IpAddressPrefix", node.slice.str()},
                           {"Routes", nlohmann::json::array({{{"NextHop", net::format_ipv4(node.gateway())},
                                                              {"DestinationPrefix", "0.0.0.0/0"}}})}};
  nlohmann::json doc = {
      {"SchemaVersion", schema_v2()},
      {"Name", kOverlayNetworkName},
      {"Type", "Transparent"},
      {"Ipams", nlohmann::json::array({{{"Type", "Static"}, {"Subnets", nlohmann::json::array({subnet})}}})},
      {"Policies", nlohmann::json::array()}};
  if (!adapter.empty())
    doc["Policies"].push_back({{"Type", "NetAdapterName"}, {"Settings", {{"NetworkAdapterName", adapter}}}});
  return doc;
}

Result<nlohmann::json> endpoint_document(const NodeNetwork& node, const EndpointDocInput& in) {
  if (in.container_id.empty()) return invalid_argument("HCN endpoint: no container id");
  if (auto ok = node.check_container_address(in.address); !ok)
    return tl::unexpected(ok.error().wrap("HCN endpoint"));
  std::string cluster = node.cluster.str();
  nlohmann::json doc = {
      {"SchemaVersion", schema_v2()},
      {"Name", endpoint_name(in.container_id)},
      {"HostComputeNetwork", in.network.str()},
      {"IpConfigurations", nlohmann::json::array({{{"IpAddress", net::format_ipv4(in.address)},
                                                   {"PrefixLength", node.slice.prefix}}})},
      {"Routes", nlohmann::json::array(
                     {{{"NextHop", net::format_ipv4(node.gateway())}, {"DestinationPrefix", "0.0.0.0/0"}}})},
      {"Policies",
       nlohmann::json::array(
           {{{"Type", "OutBoundNAT"}, {"Settings", {{"Exceptions", nlohmann::json::array({cluster})}}}},
            {{"Type", "SDNRoute"}, {"Settings", {{"DestinationPrefix", cluster}, {"NeedEncap", true}}}}})},
  };
  if (in.dns_server || in.dns_domain) {
    nlohmann::json dns = nlohmann::json::object();
    if (in.dns_server) dns["ServerList"] = nlohmann::json::array({net::format_ipv4(*in.dns_server)});
    if (in.dns_domain) {
      dns["Domain"] = *in.dns_domain;
      dns["Search"] = nlohmann::json::array({*in.dns_domain});
    }
    doc["Dns"] = dns;
  }
  return doc;
}

nlohmann::json namespace_document() {
  return {{"SchemaVersion", schema_v2()}, {"Type", "HostDefault"}};
}

nlohmann::json namespace_add_endpoint(const Guid& endpoint) {
  return {
      {"ResourceType", "Endpoint"}, {"RequestType", "Add"}, {"Settings", {{"EndpointId", endpoint.str()}}}};
}

std::string endpoint_name(std::string_view container_id) {
  return endpoint_prefix() + std::string(container_id);
}

std::optional<std::string> container_of_endpoint(std::string_view name) {
  std::string prefix = endpoint_prefix();
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return std::nullopt;
  return std::string(name.substr(prefix.size()));
}

Result<EndpointSummary> parse_endpoint_properties(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid_argument("HCN endpoint properties are not a JSON object");
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return EndpointSummary{str("ID").empty() ? str("Id") : str("ID"), str("Name"), str("HostComputeNamespace")};
}

Result<std::vector<std::string>> parse_id_list(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return invalid_argument("HCN id list is not JSON");
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return invalid_argument("HCN id list is not a JSON array");
  for (const auto& e : j) {
    if (e.is_string())
      out.push_back(e.get<std::string>());
    else if (e.is_object() && e.contains("Id") && e["Id"].is_string())
      out.push_back(e["Id"].get<std::string>());
  }
  return out;
}

std::vector<EndpointSummary> orphan_endpoints(const std::vector<EndpointSummary>& endpoints,
                                              const std::set<std::string>& live) {
  std::vector<EndpointSummary> out;
  for (const auto& e : endpoints) {
    auto owner = container_of_endpoint(e.name);
    if (owner && !live.contains(*owner)) out.push_back(e);
  }
  return out;
}

}  // namespace zl::win
