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
#include "net/netns.h"
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

// An attach in two steps, so that the plugins (a few process starts) can run while the OCI
// runtime creates the container in the namespace: begin_attach makes the namespace and the
// record, finish_attach connects it. The container must not start before finish_attach is done.
struct PendingAttach {
  AttachRequest req;
  ContainerNetwork cn;
  std::vector<NetworkRecord> nets;  // one endpoint on each
  std::optional<NetNs> ns;          // ours until finish_attach succeeds
  // Every bridge exists already, so finish_attach makes none (a new bridge gets its gateway
  // address, and the network its DNS server, only when its first container connects).
  bool bridges_ready = true;
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
  // attach in two steps (PendingAttach). On failure of either nothing of it is left.
  Result<PendingAttach> begin_attach(const AttachRequest& req);
  Result<ContainerNetwork> finish_attach(PendingAttach& pending);
  // A container (bridge mode, its namespace in place: created, running or stopped) joins one
  // more network on the next free ethN, answering there to its names and `aliases`; conflict
  // when it is on it already.
  Result<NetworkEndpoint> connect_network(const std::string& container_id, const std::string& network,
                                          const std::vector<std::string>& aliases);
  // It leaves one: not_found when it is not on it.
  Status disconnect_network(const std::string& container_id, const std::string& network);
  // Adds the container's addresses to `names` on each of its networks (published), or takes
  // them away. A container without a network record: nothing to do.
  Status set_dns_names(const std::string& container_id, const std::vector<std::string>& names, bool published);
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
  struct Reservation {
    std::string network, owner, address, ifname;  // owner: the container id
    fs::path file;
  };
  // One network of a container: the plugins' ADD in its namespace (`ran` once they ran: their
  // DEL is then the caller's to undo), the egress rules of the network, its names in the
  // network's records. The primary network's default route gets the uplink's MTU.
  Status add_endpoint(const std::string& id, const std::string& netns, NetworkEndpoint& ep,
                      const NetworkRecord& n, bool primary, const std::vector<std::string>& names, bool& ran);
  // Its undo: the plugins' DEL (without a namespace when `netns` is ""), its names. `reserved`:
  // what the IPAM holds, to find an address that ADD reserved but never reported.
  Status remove_endpoint(const std::string& id, const std::string& netns, NetworkEndpoint& ep,
                         const std::vector<Reservation>& reserved);
  Status save_record(const std::string& id, const ContainerNetwork& cn) const;
  // An address host-local reserved for a zlayer container (its file under the IPAM dataDir).
  std::vector<Reservation> reservations() const;

  fs::path root_, netns_dir_;
  NetConfig cfg_;
  Cni cni_;
  NetworkStore store_;
};

}  // namespace zl::net
