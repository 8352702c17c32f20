// What the kernel says of a listening unix socket (NETLINK_SOCK_DIAG): how many connections wait
// to be accepted. Lets an attach tell when conmon has taken its connection.
#pragma once

#include <cstdint>

#include "common/fs.h"

namespace zl {

// Connections queued on the unix socket listening at `path` that its owner has not accepted yet;
// not_found when nothing listens there.
Result<uint32_t> pending_connections(const fs::path& path);

}  // namespace zl
