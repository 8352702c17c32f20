// How one container is connected, as recorded on disk when it is created: its namespace, each
// network's interface with the address CNI gave it, and its published ports. The record is also
// what removal (CNI DEL) and crash reaping work from.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "net/port_spec.h"

namespace zl::net {

// One interface on one network.
struct NetworkEndpoint {
  std::string network;   // zlayer's network name
  std::string network_id;
  std::string ifname;    // eth0, eth1, ...
  std::string address;   // "10.200.0.5" (empty until CNI ADD has returned)
  int prefix_len = 0;
  std::string gateway;
  std::string mac;
  std::vector<std::string> dns_names;  // names it answers to on this network (records file)
  nlohmann::json cni_config;           // the plugin list ADD ran, as DEL must run it again
  nlohmann::json runtime_config;       // ADD's runtimeConfig (portMappings), which DEL needs too
  nlohmann::json cni_result;           // ADD's final result (null until known): DEL's prevResult
};

enum class NetworkMode { bridge, none, host, container };
std::string_view to_string(NetworkMode m);

struct ContainerNetwork {
  NetworkMode mode = NetworkMode::bridge;
  std::string netns;   // the namespace path (empty with the host's network)
  std::string joined;  // mode container: the id of the container whose namespace is shared
  std::vector<NetworkEndpoint> endpoints;  // bridge: the first one is the primary (eth0)
  std::vector<PortMapping> ports;
};

nlohmann::json to_json(const ContainerNetwork& n);
Result<ContainerNetwork> container_network_from_json(const nlohmann::json& j);

}  // namespace zl::net
