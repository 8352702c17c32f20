// Host Compute Network (HCN) documents for zlayer's Windows networking: one Transparent overlay
// network per node on the node's slice of the cluster range, and per container an endpoint (its
// address, DNS, outbound-NAT exceptions and a route for the cluster range) in its own
// namespace. Also the owner-prefixed endpoint names a restarted agent reaps. Portable.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "net/ipv4.h"
#include "runtime/windows/portable/guid.h"
#include "runtime/windows/portable/hcs_document.h"

namespace zl::win {

inline constexpr std::string_view kOverlayNetworkName = "zlayer-overlay";
inline constexpr std::string_view kDefaultClusterRange = "10.200.0.0/16";

// The node's part of the cluster network: `slice` must lie inside `cluster` and leave room for a
// gateway and one container (prefix <= 30).
struct NodeNetwork {
  net::Ipv4Net cluster;
  net::Ipv4Net slice;
  static Result<NodeNetwork> make(std::string_view cluster_cidr, std::string_view slice_cidr);
  uint32_t gateway() const { return slice.gateway(); }
  // An address for a container: inside the slice, not the network, gateway or broadcast.
  Status check_container_address(uint32_t addr) const;
};

// HcnCreateNetwork settings of the node's overlay network (Transparent, static IPAM on the
// slice, default route via the slice's gateway; on `adapter` when given).
nlohmann::json overlay_network_document(const NodeNetwork& node, std::string_view adapter = {});

struct EndpointDocInput {
  Guid network;
  std::string container_id;
  uint32_t address = 0;
  std::optional<uint32_t> dns_server;
  std::optional<std::string> dns_domain;
};
// HcnCreateEndpoint settings. invalid_argument when the address is not a container address of
// the slice.
Result<nlohmann::json> endpoint_document(const NodeNetwork& node, const EndpointDocInput& in);

// HcnCreateNamespace settings (a container namespace) and the HcnModifyNamespace request that
// adds an endpoint to it.
nlohmann::json namespace_document();
nlohmann::json namespace_add_endpoint(const Guid& endpoint);

// "zlayer-<container id>" and back (nullopt for names zlayer did not give).
std::string endpoint_name(std::string_view container_id);
std::optional<std::string> container_of_endpoint(std::string_view name);

// An endpoint as HcnQueryEndpointProperties describes it.
struct EndpointSummary {
  std::string id;
  std::string name;
  std::string namespace_id;  // HostComputeNamespace, may be empty
};
Result<EndpointSummary> parse_endpoint_properties(std::string_view json);
// HcnEnumerateEndpoints' result: a JSON array of endpoint ids (strings or {"Id": ...}).
Result<std::vector<std::string>> parse_id_list(std::string_view json);

// Endpoints zlayer named whose container is not in `live`: reaped at agent start.
std::vector<EndpointSummary> orphan_endpoints(const std::vector<EndpointSummary>& endpoints,
                                              const std::set<std::string>& live);

}  // namespace zl::win
