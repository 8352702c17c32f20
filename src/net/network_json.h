// A network as docker shows it (`network inspect`, the Docker API's /networks): name, id, IPAM,
// bridge, and the containers on it with their addresses.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "net/network_manager.h"

namespace zl::net {

// `container_name` maps a container id to its name ("" when it is gone meanwhile).
Result<nlohmann::json> docker_network_json(
    NetworkManager& nm, const NetworkRecord& n,
    const std::function<std::string(const std::string&)>& container_name);

}  // namespace zl::net
