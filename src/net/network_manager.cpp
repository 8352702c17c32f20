#include "net/network_manager.h"

#include <net/if.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "common/failpoint.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/subprocess.h"
#include "net/dns_launcher.h"
#include "net/iptables.h"
#include "net/netns.h"
#include "net/route_mtu.h"

namespace zl::net {

using json = nlohmann::json;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_container_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool link_exists(const std::string& name) {
  std::error_code ec;
  return fs::exists(fs::path("/sys/class/net") / name, ec);
}

// True when a bridge plugin of the container's made masquerade rules for its address (ipMasq,
// as zlayer's first networks did): its DEL finds them only through the namespace.
bool masquerades_per_container(const ContainerNetwork& cn) {
  for (const auto& ep : cn.endpoints) {
    if (!ep.cni_config.is_object()) continue;
    for (const auto& plugin : ep.cni_config.value("plugins", json::array()))
      if (plugin.value("type", "") == "bridge" && plugin.value("ipMasq", false)) return true;
  }
  return false;
}

// Who a network's egress rules were last checked for: this boot, this instance of the bridge.
std::string egress_stamp(const std::string& bridge) {
  return fmt::format("{} {}\n", boot_id(), ::if_nametoindex(bridge.c_str()));
}

json port_mappings_json(const std::vector<PortMapping>& ports) {
  json out = json::array();
  for (const auto& p : ports) {
    json m = {{"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}};
    if (!p.host_ip.empty()) m["hostIP"] = p.host_ip;
    out.push_back(std::move(m));
  }
  return out;
}

// A prevResult for DEL when ADD's result was never recorded (a crash mid-create): the address
// host-local reserved is what the firewall plugin needs to find its rules.
json synthesized_result(const std::string& ifname, const std::string& netns, const std::string& address,
                        int prefix) {
  json r = {{"cniVersion", kCniVersion}, {"interfaces", json::array()}, {"ips", json::array()}};
  r["interfaces"].push_back({{"name", ifname}, {"sandbox", netns}});
  if (!address.empty())
    r["ips"].push_back({{"address", fmt::format("{}/{}", address, prefix)}, {"interface", 0}});
  return r;
}

}  // namespace

NetworkManager::NetworkManager(fs::path root, NetConfig cfg, Cni cni)
    : root_(std::move(root)),
      netns_dir_(root_ / "netns"),
      cfg_(std::move(cfg)),
      cni_(std::move(cni)),
      store_(root_ / "networks") {}

Status NetworkManager::validate_config() const {
  ZL_TRY_ASSIGN(Ipv4Net cluster, Ipv4Net::parse(cfg_.cluster_cidr).map_error([](Error e) {
    return std::move(e).wrap("cluster range");
  }));
  if (!cfg_.node_subnet.empty()) {
    ZL_TRY_ASSIGN(Ipv4Net node, Ipv4Net::parse(cfg_.node_subnet).map_error([](Error e) {
      return std::move(e).wrap("node subnet");
    }));
    if (!cluster.contains(node))
      return invalid_argument("node subnet {} is not inside the cluster range {}", node.str(), cluster.str());
    if (node.prefix > 30) return invalid_argument("node subnet {} is too small: at most /30", node.str());
  } else if (cluster.prefix > 24) {
    return invalid_argument("cluster range {} is smaller than the /24 a node takes", cluster.str());
  }
  if (!cfg_.bridge_prefix.starts_with("zl") || cfg_.bridge_prefix.size() > 12 ||
      cfg_.bridge_prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    return invalid_argument("bridge prefix \"{}\" must start with \"zl\" and have at most 12 of [a-z0-9-]",
                            cfg_.bridge_prefix);
  return {};
}

json NetworkManager::cni_config(const NetworkRecord& n, bool primary, bool with_ports) const {
  json range = {{"subnet", n.subnet.str()}, {"gateway", format_ipv4(n.gateway)}};
  json ipam = {{"type", "host-local"},
               {"ranges", json::array({json::array({range})})},
               {"dataDir", store_.ipam_dir(n.name).string()}};
  if (primary) ipam["routes"] = json::array({{{"dst", "0.0.0.0/0"}}});
  json plugins = json::array();
  // Masquerade and forwarding are per network (ensure_network_egress), not per container: the
  // bridge plugin's ipMasq and the firewall plugin would run ~25 iptables per container and run.
  plugins.push_back({{"type", "bridge"},
                     {"bridge", n.bridge},
                     {"isGateway", true},
                     {"ipMasq", false},
                     {"hairpinMode", true},
                     {"mtu", kNodeMtu},  // the default route keeps the uplink's (add_endpoint)
                     {"ipam", ipam}});
  if (with_ports)
    plugins.push_back({{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}});
  return {{"cniVersion", kCniVersion}, {"name", n.name}, {"plugins", plugins}};
}

Result<NetworkRecord> NetworkManager::default_network() {
  auto found = store_.load(kDefaultNetwork);
  if (found || found.error().kind != ErrorKind::not_found) return found;
  ZL_TRY(validate_config());
  ZL_TRY_ASSIGN(auto lock, store_.lock_all());
  found = store_.load(kDefaultNetwork);
  if (found || found.error().kind != ErrorKind::not_found) return found;
  ZL_TRY_ASSIGN(Ipv4Net cluster, Ipv4Net::parse(cfg_.cluster_cidr));
  Ipv4Net node{cluster.addr, 24};
  if (!cfg_.node_subnet.empty()) {
    ZL_TRY_ASSIGN(node, Ipv4Net::parse(cfg_.node_subnet));
  }
  ZL_TRY_ASSIGN(auto others, store_.list());
  for (const auto& o : others)
    if (o.subnet.overlaps(node))
      return conflict("the node subnet {} overlaps network {} ({})", node.str(), o.name, o.subnet.str());
  NetworkRecord rec{.name = kDefaultNetwork,
                    .id = random_hex_id(),
                    .subnet = node,
                    .gateway = node.gateway(),
                    .bridge = cfg_.bridge_prefix + "0",
                    .created_at = now_ns(),
                    .is_default = true};
  ZL_TRY(store_.save(rec));
  return rec;
}

Result<NetworkRecord> NetworkManager::create_network(const std::string& name, const std::string& subnet) {
  ZL_TRY(validate_network_name(name));
  ZL_TRY(validate_config());
  if (name == kDefaultNetwork)
    return already_exists("network {} already exists (it is the default network)", name);
  ZL_TRY(default_network());  // the node's slice is taken first
  ZL_TRY_ASSIGN(auto lock, store_.lock_all());
  if (store_.load(name)) return already_exists("network {} already exists", name);
  ZL_TRY_ASSIGN(auto others, store_.list());
  std::vector<Ipv4Net> used;
  for (const auto& o : others) used.push_back(o.subnet);
  Ipv4Net net;
  if (!subnet.empty()) {
    ZL_TRY_ASSIGN(net, Ipv4Net::parse(subnet));
    if (net.prefix > 30) return invalid_argument("subnet {} is too small: at most /30", net.str());
    for (const auto& o : others)
      if (o.subnet.overlaps(net))
        return conflict("subnet {} overlaps network {} ({})", net.str(), o.name, o.subnet.str());
  } else {
    ZL_TRY_ASSIGN(Ipv4Net cluster, Ipv4Net::parse(cfg_.cluster_cidr));
    ZL_TRY_ASSIGN(net, next_free_subnet(cluster, 24, used));
  }
  std::set<std::string> bridges;
  for (const auto& o : others) bridges.insert(o.bridge);
  std::string bridge;
  for (int i = 1; i < 1000 && bridge.empty(); ++i) {
    std::string cand = cfg_.bridge_prefix + std::to_string(i);
    if (!bridges.count(cand) && !link_exists(cand) && cand.size() <= 15) bridge = cand;
  }
  if (bridge.empty()) return unavailable("no free bridge name left for network {}", name);
  NetworkRecord rec{.name = name,
                    .id = random_hex_id(),
                    .subnet = net,
                    .gateway = net.gateway(),
                    .bridge = bridge,
                    .created_at = now_ns()};
  ZL_TRY(store_.save(rec));
  return rec;
}

Result<std::vector<NetworkRecord>> NetworkManager::list_networks() {
  ZL_TRY(default_network());
  return store_.list();
}

Result<NetworkRecord> NetworkManager::inspect_network(const std::string& ref) {
  if (ref.empty() || ref == "bridge" || ref == kDefaultNetwork) return default_network();
  auto byname = store_.load(ref);
  if (byname || byname.error().kind != ErrorKind::not_found) return byname;
  if (ref.size() >= 3 && ref.find_first_not_of("0123456789abcdef") == std::string::npos) {
    ZL_TRY_ASSIGN(auto all, store_.list());
    std::vector<NetworkRecord> hits;
    for (auto& n : all)
      if (n.id.starts_with(ref)) hits.push_back(n);
    if (hits.size() == 1) return hits[0];
    if (hits.size() > 1) return invalid_argument("network id prefix \"{}\" is ambiguous", ref);
  }
  return not_found("no such network: {}", ref);
}

Result<NetworkRecord> NetworkManager::resolve_network(const std::string& name) {
  if (name.empty() || name == "bridge" || name == kDefaultNetwork) return default_network();
  return store_.load(name);
}

Result<std::vector<std::string>> NetworkManager::network_users(const std::string& name) const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(netns_dir_, ec)) return out;
  for (const auto& e : fs::directory_iterator(netns_dir_, ec)) {
    std::string f = e.path().filename().string();
    if (!f.ends_with(".json")) continue;
    auto cn = load(f.substr(0, f.size() - 5));
    if (!cn || !*cn) continue;
    for (const auto& ep : (*cn)->endpoints)
      if (ep.network == name) {
        out.push_back(f.substr(0, f.size() - 5));
        break;
      }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status NetworkManager::remove_network(const std::string& ref) {
  ZL_TRY_ASSIGN(auto n, inspect_network(ref));
  if (n.is_default) return conflict("network {} is the default network and cannot be removed", n.name);
  ZL_TRY_ASSIGN(auto all_lock, store_.lock_all());
  ZL_TRY_ASSIGN(auto lock, store_.lock(n.name));
  ZL_TRY_ASSIGN(auto users, network_users(n.name));
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : ", ") + u.substr(0, 12);
    return conflict("network {} is in use by container{} {}: remove them or disconnect them first", n.name,
                    users.size() == 1 ? "" : "s", list);
  }
  stop_dns_server(store_, n.name);
  ZL_TRY(remove_isolation(n.bridge, n.name));
  ZL_TRY(remove_network_egress(n.bridge, n.subnet.str(), n.name));
  if (link_exists(n.bridge)) {
    ZL_TRY_ASSIGN(auto r, run_process({"ip", "link", "del", n.bridge}));
    if (!r.ok() && link_exists(n.bridge)) return internal("delete bridge {}: {}", n.bridge, r.describe());
  }
  return store_.remove(n.name);
}

Result<DnsRecords> NetworkManager::dns_records(const std::string& name) const {
  return store_.load_dns(name);
}

Status NetworkManager::rename_dns(const std::string& id, const std::string& old_name, const std::string& new_name) {
  ZL_TRY_ASSIGN(auto cn, load(id));
  if (!cn) return {};
  for (auto& ep : cn->endpoints) {
    auto it = std::find(ep.dns_names.begin(), ep.dns_names.end(), old_name);
    if (it == ep.dns_names.end()) continue;
    *it = new_name;
    if (ep.address.empty()) continue;
    ZL_TRY_ASSIGN(auto lock, store_.lock(ep.network));
    ZL_TRY_ASSIGN(auto records, store_.load_dns(ep.network));
    remove_dns_address(records, ep.address);  // then every name of the address again
    add_dns_names(records, ep.dns_names, ep.address);
    ZL_TRY(store_.save_dns(ep.network, records));
  }
  return save_record(id, *cn);
}

Result<std::optional<ContainerNetwork>> NetworkManager::load(const std::string& id) const {
  auto text = read_file(record_path(id));
  if (!text && text.error().kind == ErrorKind::not_found) return std::optional<ContainerNetwork>();
  if (!text) return tl::unexpected(text.error());
  try {
    ZL_TRY_ASSIGN(auto cn, container_network_from_json(json::parse(*text)));
    return std::optional<ContainerNetwork>(std::move(cn));
  } catch (const json::exception& e) {
    return corrupt("network record of container {} is damaged: {}", id.substr(0, 12), e.what());
  }
}

Status NetworkManager::save_record(const std::string& id, const ContainerNetwork& cn) const {
  return write_file_atomic(record_path(id), to_json(cn).dump(2) + "\n", 0600);
}

Status NetworkManager::check_ports_free(const std::string& id, const std::vector<PortMapping>& ports) const {
  if (ports.empty()) return {};
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t j = i + 1; j < ports.size(); ++j)
      if (ports[i].host_port == ports[j].host_port && ports[i].protocol == ports[j].protocol)
        return invalid_argument("host port {}/{} is published twice", ports[i].host_port, ports[i].protocol);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(netns_dir_, ec)) {
    std::string f = e.path().filename().string();
    if (!f.ends_with(".json") || f == id + ".json") continue;
    auto cn = load(f.substr(0, f.size() - 5));
    if (!cn || !*cn) continue;
    for (const auto& theirs : (*cn)->ports)
      for (const auto& mine : ports)
        if (theirs.host_port == mine.host_port && theirs.protocol == mine.protocol &&
            (theirs.host_ip.empty() || mine.host_ip.empty() || theirs.host_ip == mine.host_ip))
          return conflict("host port {}/{} is already published by container {}", mine.host_port,
                          mine.protocol, f.substr(0, 12));
  }
  return {};
}

Result<ContainerNetwork> NetworkManager::attach(const AttachRequest& req) {
  ZL_TRY_ASSIGN(auto pending, begin_attach(req));
  return finish_attach(pending);
}

Result<PendingAttach> NetworkManager::begin_attach(const AttachRequest& req) {
  const std::string& id = req.container_id;
  PendingAttach p{.req = req, .cn = {.mode = req.mode, .joined = req.joined, .ports = req.ports}};
  ContainerNetwork& cn = p.cn;
  if (req.mode == NetworkMode::host || req.mode == NetworkMode::container) {
    if (!req.ports.empty())
      return invalid_argument(
          "ports cannot be published with network mode {}: the container has no network of its own",
          to_string(req.mode));
    cn.netns = req.join_netns;
    ZL_TRY(make_dirs(netns_dir_, 0700));
    ZL_TRY(save_record(id, cn));
    return p;
  }
  if (req.mode == NetworkMode::none && !req.ports.empty())
    return invalid_argument("ports cannot be published with network mode none");

  std::vector<NetworkRecord>& nets = p.nets;
  if (req.mode == NetworkMode::bridge) {
    std::vector<std::string> names = req.networks.empty() ? std::vector<std::string>{""} : req.networks;
    for (const auto& name : names) {
      ZL_TRY_ASSIGN(auto n, resolve_network(name));
      if (std::none_of(nets.begin(), nets.end(), [&](const auto& x) { return x.name == n.name; }))
        nets.push_back(n);
    }
  }
  ZL_TRY(make_dirs(netns_dir_, 0700));
  ZL_TRY(check_ports_free(id, req.ports));
  ZL_TRY_ASSIGN(NetNs ns, NetNs::create(netns_path(id)));
  cn.netns = ns.path().string();
  p.ns.emplace(std::move(ns));
  ZL_FAILPOINT("net.attach.after-netns");
  for (size_t i = 0; i < nets.size(); ++i) {
    p.bridges_ready = p.bridges_ready && link_exists(nets[i].bridge);
    NetworkEndpoint ep{.network = nets[i].name,
                       .network_id = nets[i].id,
                       .ifname = "eth" + std::to_string(i),
                       .cni_config = cni_config(nets[i], i == 0, i == 0 && !req.ports.empty()),
                       .runtime_config = json::object()};
    if (i == 0 && !req.ports.empty()) ep.runtime_config["portMappings"] = port_mappings_json(req.ports);
    cn.endpoints.push_back(std::move(ep));
  }
  // Recorded before any plugin runs, so a crash from here on leaves a record to reap by.
  ZL_TRY(save_record(id, cn));
  return p;
}

Result<ContainerNetwork> NetworkManager::finish_attach(PendingAttach& p) {
  if (!p.ns) return p.cn;  // host or container: nothing to connect
  const AttachRequest& req = p.req;
  const std::string& id = req.container_id;
  ContainerNetwork& cn = p.cn;
  const std::vector<NetworkRecord>& nets = p.nets;
  size_t added = 0;
  auto undo = [&] {
    ContainerNetwork partial = cn;
    partial.endpoints.resize(added);
    (void)detach_record(id, partial, false);
    std::error_code ec;
    fs::remove(record_path(id), ec);
  };

  // (lo is up already: NetNs::create brings it up.)

  for (size_t i = 0; i < cn.endpoints.size(); ++i) {
    bool ran = false;
    if (auto st = add_endpoint(id, cn.netns, cn.endpoints[i], nets[i], i == 0, req.dns_names, ran); !st) {
      added = ran ? i + 1 : i;
      undo();
      return tl::unexpected(
          st.error().wrap(fmt::format("connect container {} to network {}", req.container_name, nets[i].name)));
    }
    added = i + 1;
  }
  if (auto st = save_record(id, cn); !st) {
    undo();
    return tl::unexpected(st.error());
  }
  p.ns->release();
  return cn;
}

Status NetworkManager::add_endpoint(const std::string& id, const std::string& netns, NetworkEndpoint& ep,
                                    const NetworkRecord& n, bool primary, const std::vector<std::string>& names,
                                    bool& ran) {
  ZL_TRY_ASSIGN(auto lock, store_.lock(n.name));
  bool fresh_bridge = !link_exists(n.bridge);
  CniRuntimeArgs args{.container_id = cni_container_id(id), .netns = netns, .ifname = ep.ifname};
  args.runtime_config = ep.runtime_config;
  ZL_TRY_ASSIGN(auto result, cni_.add(ep.cni_config, args));
  ran = true;
  ZL_FAILPOINT("net.attach.after-cni-add");
  ep.cni_result = result.raw;
  const CniIpConfig* ip = result.container_ip();
  if (!ip) return internal("the CNI result has no address for the container");
  auto slash = ip->address.find('/');
  ep.address = ip->address.substr(0, slash);
  ep.prefix_len = slash == std::string::npos ? 32 : std::stoi(ip->address.substr(slash + 1));
  ep.gateway = ip->gateway;
  if (const CniInterface* itf = result.container_interface()) ep.mac = itf->mac;
  if (primary && !ep.gateway.empty()) {  // the primary network has the default route
    int uplink = host_uplink_mtu();
    ZL_TRY(run_in_netns(netns, [&] { return set_default_route_mtu(ep.ifname, ep.gateway, uplink); }));
  }
  if (fresh_bridge) ZL_TRY(ensure_isolation(n.bridge, cfg_.bridge_prefix.substr(0, 2) + "+", n.name));
  // Checked once per bridge and boot (3 iptables -C; a bridge made by an older zlayer lacks
  // them), not on every attach.
  fs::path stamp_file = store_.network_dir(n.name) / "egress.stamp";
  std::string stamp = egress_stamp(n.bridge);
  if (fresh_bridge || read_file(stamp_file).value_or("") != stamp) {
    ZL_TRY(ensure_network_egress(n.bridge, n.subnet.str(), n.name));
    ZL_TRY(write_file_atomic(stamp_file, stamp, 0644, Sync::atomic));
  }
  ep.dns_names = names;
  ZL_TRY_ASSIGN(auto records, store_.load_dns(n.name));
  add_dns_names(records, ep.dns_names, ep.address);
  ZL_TRY(store_.save_dns(n.name, records));
  ZL_FAILPOINT("net.attach.after-dns");
  return {};
}

Status NetworkManager::remove_endpoint(const std::string& id, const std::string& netns, NetworkEndpoint& ep,
                                       const std::vector<Reservation>& reserved) {
  auto lock = store_.lock(ep.network);  // gone: the records went with it, CNI DEL still runs
  // A crash before the record had the address: what host-local reserved tells it (for DEL and
  // for the names, which may be saved already).
  if (ep.address.empty())
    for (const auto& r : reserved)
      if (r.owner == id && r.network == ep.network && r.ifname == ep.ifname) ep.address = r.address;
  std::optional<json> prev;
  if (!ep.cni_result.is_null()) {
    prev = ep.cni_result;
  } else {  // ADD never finished
    int prefix = 24;
    if (auto n = store_.load(ep.network)) prefix = n->subnet.prefix;
    prev = synthesized_result(ep.ifname, netns, ep.address, prefix);
  }
  CniRuntimeArgs args{.container_id = cni_container_id(id), .netns = netns, .ifname = ep.ifname};
  if (ep.runtime_config.is_object()) args.runtime_config = ep.runtime_config;
  Status deleted;
  if (!ep.cni_config.is_null()) deleted = cni_.del(ep.cni_config, args, prev);
  if (lock && !ep.address.empty()) {
    if (auto records = store_.load_dns(ep.network)) {
      remove_dns_address(*records, ep.address);
      (void)store_.save_dns(ep.network, *records);
    }
  }
  if (!deleted)
    return tl::unexpected(
        deleted.error().wrap(fmt::format("disconnect container {} from network {}", id.substr(0, 12), ep.network)));
  return {};
}

Status NetworkManager::detach_record(const std::string& id, ContainerNetwork& cn, bool reaping) {
  if (cn.mode == NetworkMode::host || cn.mode == NetworkMode::container) return {};
  bool had_netns = !cn.netns.empty() && netns_mounted(cn.netns);
  bool mounted = had_netns;
  // The namespace goes first: with it go the container's ends of the veths, and the kernel
  // deletes the pairs in the background (deleting a veth directly waits ~30 ms for RCU). The
  // plugins then release addresses, ports and rules without a namespace, as CNI allows for DEL.
  // (When reaping, the plugins still get it: they clean up best with it.)
  if (mounted && !reaping && !masquerades_per_container(cn)) {
    ZL_TRY(remove_netns(cn.netns));
    mounted = false;
    if (!reaping) ZL_FAILPOINT("net.detach.after-netns-removed");
  }
  std::optional<Error> first;
  // A record saved before ADD's result (a crash mid-attach) lacks the address: host-local's
  // reservation tells it, for the DEL and for the DNS records made under it.
  std::vector<Reservation> reserved;
  bool unknown = std::any_of(cn.endpoints.begin(), cn.endpoints.end(),
                             [](const NetworkEndpoint& ep) { return ep.address.empty() || ep.cni_result.is_null(); });
  if (reaping || unknown) reserved = reservations();
  for (auto it = cn.endpoints.rbegin(); it != cn.endpoints.rend(); ++it) {
    if (auto st = remove_endpoint(id, mounted ? cn.netns : "", *it, reserved); !st && !first) first = st.error();
  }
  if (first) return tl::unexpected(*first);
  // Without its namespace the bridge plugin cannot find the addresses whose masquerade rules
  // it made: those go by their tag.
  if (!had_netns && !cn.endpoints.empty())
    ZL_TRY(remove_tagged_rules(fmt::format("id: \"{}\"", cni_container_id(id))));
  if (!cn.netns.empty()) ZL_TRY(remove_netns(cn.netns));
  return {};
}

Result<NetworkEndpoint> NetworkManager::connect_network(const std::string& id, const std::string& network,
                                                        const std::vector<std::string>& aliases) {
  ZL_TRY_ASSIGN(auto cn, load(id));
  if (!cn) return not_found("container {} has no network record", id.substr(0, 12));
  if (cn->mode != NetworkMode::bridge || cn->netns.empty() || !netns_mounted(cn->netns))
    return invalid_argument("container {} uses network mode {}: it cannot join other networks", id.substr(0, 12),
                            to_string(cn->mode));
  ZL_TRY_ASSIGN(auto n, resolve_network(network));
  std::set<std::string> ifnames;
  for (const auto& ep : cn->endpoints) {
    if (ep.network == n.name)
      return conflict("container {} is on network {} already", id.substr(0, 12), n.name);
    ifnames.insert(ep.ifname);
  }
  std::string ifname;
  for (int i = 0; ifname.empty(); ++i)
    if (!ifnames.count("eth" + std::to_string(i))) ifname = "eth" + std::to_string(i);
  bool primary = cn->endpoints.empty();
  NetworkEndpoint ep{.network = n.name,
                     .network_id = n.id,
                     .ifname = ifname,
                     .cni_config = cni_config(n, primary, false),
                     .runtime_config = json::object()};
  // Its names where it is already (the first network's: name, aliases, service names) and the new aliases.
  std::vector<std::string> names = primary ? std::vector<std::string>{} : cn->endpoints.front().dns_names;
  names.insert(names.end(), aliases.begin(), aliases.end());
  // Recorded first (without an address), so that a crash from here on leaves it to reap by.
  cn->endpoints.push_back(ep);
  ZL_TRY(save_record(id, *cn));
  bool ran = false;
  NetworkEndpoint& added = cn->endpoints.back();
  if (auto st = add_endpoint(id, cn->netns, added, n, primary, names, ran); !st) {
    if (ran) (void)remove_endpoint(id, cn->netns, added, {});
    cn->endpoints.pop_back();
    (void)save_record(id, *cn);
    return tl::unexpected(st.error().wrap(fmt::format("connect container {} to network {}", id.substr(0, 12), n.name)));
  }
  ZL_TRY(save_record(id, *cn));
  return added;
}

Status NetworkManager::disconnect_network(const std::string& id, const std::string& network) {
  ZL_TRY_ASSIGN(auto cn, load(id));
  ZL_TRY_ASSIGN(auto n, resolve_network(network));
  auto not_on = [&] { return not_found("container {} is not connected to network {}", id.substr(0, 12), n.name); };
  if (!cn) return not_on();
  auto it = std::find_if(cn->endpoints.begin(), cn->endpoints.end(),
                         [&](const NetworkEndpoint& ep) { return ep.network == n.name; });
  if (it == cn->endpoints.end()) return not_on();
  std::string netns = netns_mounted(cn->netns) ? cn->netns : "";
  ZL_TRY(remove_endpoint(id, netns, *it, {}));
  cn->endpoints.erase(it);
  return save_record(id, *cn);
}

Status NetworkManager::set_dns_names(const std::string& id, const std::vector<std::string>& names, bool published) {
  ZL_TRY_ASSIGN(auto cn, load(id));
  if (!cn) return {};
  for (const auto& ep : cn->endpoints) {
    if (ep.address.empty()) continue;
    ZL_TRY_ASSIGN(auto lock, store_.lock(ep.network));
    ZL_TRY_ASSIGN(auto records, store_.load_dns(ep.network));
    if (published)
      add_dns_names(records, names, ep.address);
    else
      remove_dns_names(records, names, ep.address);
    ZL_TRY(store_.save_dns(ep.network, records));
  }
  return {};
}

Status NetworkManager::detach(const std::string& id) {
  auto loaded = load(id);
  if (!loaded && loaded.error().kind == ErrorKind::corrupt) {
    // A torn record is not used: the container is disconnected by what host-local reserved for
    // it and by its namespace, as after a crash.
    spdlog::warn("{}; disconnecting the container by its address reservations", loaded.error().message);
    ZL_TRY(reap([&](const std::string& other) { return other != id; }));
    return {};
  }
  ZL_TRY_ASSIGN(auto cn, std::move(loaded));
  if (!cn) {
    if (fs::exists(netns_path(id))) return remove_netns(netns_path(id));
    return {};
  }
  ZL_TRY(detach_record(id, *cn, false));
  ZL_FAILPOINT("net.detach.after-cni-del");
  std::error_code ec;
  fs::remove(record_path(id), ec);
  if (ec) return io("remove network record of container {}: {}", id.substr(0, 12), ec.message());
  return {};
}

std::vector<NetworkManager::Reservation> NetworkManager::reservations() const {
  std::vector<Reservation> out;
  auto nets = store_.list();
  if (!nets) return out;
  for (const auto& n : *nets) {
    fs::path dir = store_.ipam_dir(n.name) / n.name;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string f = e.path().filename().string();
      if (!parse_ipv4(f)) continue;
      auto text = read_file(e.path());
      if (!text) continue;
      std::string owner = text->substr(0, text->find_first_of("\r\n"));
      std::string ifname;
      if (auto nl = text->find('\n'); nl != std::string::npos) ifname = text->substr(nl + 1);
      while (!ifname.empty() && (ifname.back() == '\n' || ifname.back() == '\r')) ifname.pop_back();
      if (!owner.starts_with("zlayer-")) continue;
      out.push_back({.network = n.name,
                     .owner = owner.substr(7),
                     .address = f,
                     .ifname = ifname.empty() ? "eth0" : ifname,
                     .file = e.path()});
    }
  }
  return out;
}

Result<int> NetworkManager::reap(const std::function<bool(const std::string& id)>& container_exists) {
  std::error_code ec;
  if (!fs::exists(netns_dir_, ec) && !fs::exists(store_.dir(), ec)) return 0;
  ZL_TRY_ASSIGN(auto all_lock, store_.lock_all());
  // Candidates: namespaces and records under <root>/netns, and host-local reservations.
  std::set<std::string> ids;
  for (const auto& e : fs::directory_iterator(netns_dir_, ec)) {
    std::string f = e.path().filename().string();
    if (f.ends_with(".json")) f.resize(f.size() - 5);
    if (is_container_id(f)) ids.insert(f);
  }
  std::vector<Reservation> reserved = reservations();
  std::map<std::string, std::vector<Reservation>> by_owner;
  for (const auto& r : reserved) {
    if (!is_container_id(r.owner)) continue;
    ids.insert(r.owner);
    by_owner[r.owner].push_back(r);
  }
  int reaped = 0;
  for (const auto& id : ids) {
    if (container_exists(id)) continue;
    spdlog::info("reaping network leftovers of container {}", id.substr(0, 12));
    ++reaped;
    auto cn = load(id);
    ContainerNetwork rec;
    if (cn && *cn) {
      rec = **cn;
    } else {  // no record: rebuilt from the reservations
      rec.netns = netns_path(id).string();
      for (const auto& r : by_owner[id]) {
        auto n = store_.load(r.network);
        if (!n) continue;
        NetworkEndpoint ep{.network = r.network,
                           .ifname = r.ifname,
                           .address = r.address,
                           .prefix_len = n->subnet.prefix,
                           .cni_config = cni_config(*n, r.ifname == "eth0", true)};
        ep.cni_result = synthesized_result(r.ifname, rec.netns, r.address, n->subnet.prefix);
        rec.endpoints.push_back(std::move(ep));
      }
    }
    for (auto& ep : rec.endpoints) {  // the record may predate ADD's result: reservations tell the address
      if (!ep.address.empty()) continue;
      for (const auto& r : by_owner[id])
        if (r.network == ep.network && r.ifname == ep.ifname) ep.address = r.address;
    }
    if (auto st = detach_record(id, rec, true); !st)
      spdlog::warn("reap container {}: {}", id.substr(0, 12), st.error().message);
    // Whatever the plugins could not remove (their namespace gone, say) goes by its tag.
    if (auto st = remove_tagged_rules(fmt::format("id: \"{}\"", cni_container_id(id))); !st)
      spdlog::warn("reap container {}: {}", id.substr(0, 12), st.error().message);
    for (const auto& r : by_owner[id]) fs::remove(r.file, ec);
    for (const auto& ep : rec.endpoints) {
      if (ep.address.empty() || !store_.load(ep.network)) continue;
      auto lock = store_.lock(ep.network);
      if (auto records = store_.load_dns(ep.network); lock && records) {
        remove_dns_address(*records, ep.address);
        (void)store_.save_dns(ep.network, *records);
      }
    }
    (void)remove_netns(netns_path(id));
    fs::remove(record_path(id), ec);
  }
  return reaped;
}

}  // namespace zl::net
