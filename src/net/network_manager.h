// Networks and the containers on them: the default bridge network on this node's slice of the
// cluster range, user-defined networks (each its own bridge and /24, isolated from the others),
// and a container's attachment: its own namespace, one CNI ADD per network (eth0, eth1, ...),
// published ports on the primary one, and its names in each network's records file. Everything
// it makes carries zlayer's tag (bridge names, CNI container ids "zlayer-<id>", iptables chains
// and comments), so that what a crash left behind can be found and reaped, and nothing else.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/attachment.h"
#include "net/cni.h"
#include "net/network_store.h"

namespace zl::net {

struct NetConfig {
  std::string cluster_cidr = "10.200.0.0/16";
  std::string node_subnet;          // empty: the first /24 of cluster_cidr
  std::string bridge_prefix = "zl";  // bridges are <prefix>0 (default network), <prefix>1, ...
};

// How one container is to be connected.
struct AttachRequest {
  std::string container_id, container_name;
  NetworkMode mode = NetworkMode::bridge;
  std::vector<std::string> networks;  // bridge: names, the first is eth0; "", "bridge": the default
  std::vector<PortMapping> ports;     // published on the first network
  std::vector<std::string> dns_names;  // its names on each of its networks
  std::string join_netns, joined;     // container: the namespace to share and whose it is
};

class NetworkManager {
 public:
  // State under <root>/networks (networks) and <root>/netns (namespaces and attachment records).
  NetworkManager(fs::path root, NetConfig cfg, Cni cni = Cni());
  // The config checked: cluster range and node subnet parse, the subnet lies in the range,
  // the bridge prefix starts with "zl" and leaves room for a number.
  Status validate_config() const;

  // The default network, created (recorded; its bridge comes with the first container) on first use.
  Result<NetworkRecord> default_network();
  // A user network on `subnet` (CIDR) or on the next free /24 of the cluster range.
  Result<NetworkRecord> create_network(const std::string& name, const std::string& subnet = "");
  Result<std::vector<NetworkRecord>> list_networks();
  // By name ("bridge" is the default network), full id or unique id prefix.
  Result<NetworkRecord> inspect_network(const std::string& ref);
  // Refuses the default network and networks with containers (conflict); removes the bridge,
  // its isolation rules and its state.
  Status remove_network(const std::string& ref);
  // Ids of the containers attached to the network.
  Result<std::vector<std::string>> network_users(const std::string& name) const;
  Result<DnsRecords> dns_records(const std::string& name) const;

  // Connects a container as asked and records it; on failure nothing of it is left.
  Result<ContainerNetwork> attach(const AttachRequest& req);
  // Undoes attach (CNI DEL in reverse, records, namespace). No record: nothing to do. When a
  // plugin fails, the record and namespace stay for a later reap, and the error is returned.
  Status detach(const std::string& container_id);
  // A renamed container answers to its new name on its networks instead of the old one.
  Status rename_dns(const std::string& container_id, const std::string& old_name, const std::string& new_name);
  // The container's record; nullopt when it has none (created before networking, or removed).
  Result<std::optional<ContainerNetwork>> load(const std::string& container_id) const;
  // Detaches every container zlayer left connected (a namespace, record or address reservation
  // under this root) for which `container_exists` says no. Returns how many were reaped.
  Result<int> reap(const std::function<bool(const std::string& id)>& container_exists);

  fs::path netns_path(const std::string& container_id) const { return netns_dir_ / container_id; }
  fs::path record_path(const std::string& container_id) const { return netns_dir_ / (container_id + ".json"); }
  NetworkStore& store() { return store_; }
  const NetConfig& config() const { return cfg_; }
  // The CNI_CONTAINERID of a container: its id with zlayer's tag.
  static std::string cni_container_id(const std::string& id) { return "zlayer-" + id; }
  // The plugin list for one network: bridge (+host-local IPAM, default route on the primary
  // interface only), portmap when ports are published, firewall.
  nlohmann::json cni_config(const NetworkRecord& n, bool primary, bool with_ports) const;

 private:
  Result<NetworkRecord> resolve_network(const std::string& name);
  Status check_ports_free(const std::string& container_id, const std::vector<PortMapping>& ports) const;
  Status detach_record(const std::string& id, ContainerNetwork& cn, bool reaping);
  Status save_record(const std::string& id, const ContainerNetwork& cn) const;
  // An address host-local reserved for a zlayer container (its file under the IPAM dataDir).
  struct Reservation {
    std::string network, owner, address, ifname;  // owner: the container id
    fs::path file;
  };
  std::vector<Reservation> reservations() const;

  fs::path root_, netns_dir_;
  NetConfig cfg_;
  Cni cni_;
  NetworkStore store_;
};

}  // namespace zl::net
