// Each bridge network's DNS server: a `zlayer dns-server` process of its own (as podman has
// aardvark-dns), answering on the network's gateway address from the records file that
// container create and remove keep current. Started on first need, found again by its pid file,
// so the CLI and the daemon share it and it outlives both.
#pragma once

#include <string>

#include "net/network_store.h"

namespace zl::net {

// Starts the network's server unless it runs already. Returns the address containers use
// (the gateway). The caller holds the network's lock.
Result<std::string> ensure_dns_server(const NetworkStore& store, const NetworkRecord& network);
// Stops it (network removal).
void stop_dns_server(const NetworkStore& store, const std::string& network);

}  // namespace zl::net
