// A container's network on Windows through HCN: the node's overlay network (found by name or
// created once), and per container an endpoint in its own namespace; torn down on removal;
// orphans (owner-prefixed endpoints of no live container) reaped at start. Windows only.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "runtime/windows/hcs_api.h"
#include "runtime/windows/portable/hcn_document.h"

namespace zl::win {

struct NetworkAttachment {
  Guid endpoint, namespace_id;
  std::string address;
};

class HcnNetwork {
 public:
  HcnNetwork(NodeNetwork node, std::string adapter) : node_(std::move(node)), adapter_(std::move(adapter)) {}

  // The overlay network's id: looked up by name, else created; once per process.
  Result<Guid> ensure_overlay();
  // Endpoint + namespace for `container_id` at `address`; nothing left behind on failure.
  Result<NetworkAttachment> attach(const std::string& container_id, uint32_t address,
                                   std::optional<uint32_t> dns_server, std::optional<std::string> dns_domain);
  const NodeNetwork& node() const { return node_; }

 private:
  NodeNetwork node_;
  std::string adapter_;
  std::mutex mu_;
  std::optional<Guid> overlay_;
};

// Deletes the endpoint and the namespace (either may be gone already).
Status detach(const NetworkAttachment& attachment);

// Deletes every endpoint named "zlayer-<id>" whose id is not in `live` (and its namespace).
// Returns how many; a failure to delete one is logged in the message of the next error only if
// listing fails.
Result<int> reap_orphan_endpoints(const std::set<std::string>& live);

}  // namespace zl::win
