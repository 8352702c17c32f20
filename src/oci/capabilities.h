// Linux capabilities for a container: docker's default set, and --cap-add/--cap-drop/--privileged
// resolved against what zlayer itself holds.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl {

struct Capability {
  std::string name;  // "CAP_CHOWN"
  int number;        // bit in the capability sets
};

// Every capability Linux defines (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE), in kernel order.
const std::vector<Capability>& known_capabilities();

// Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
// SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE.
const std::vector<std::string>& default_capabilities();

// "net_admin" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL".
// Unknown names -> invalid_argument naming them.
Result<std::string> normalize_capability(std::string_view name);

// The container's capability set, in kernel order (docker's rules):
//  privileged         -> everything the host grants;
//  "ALL" in add       -> everything the host grants minus drop;
//  "ALL" in drop      -> only add;
//  otherwise          -> defaults minus drop, plus add.
// `host` is zlayer's own bounding set: "ALL" and privileged are limited to it, and an explicit
// add of a capability outside it is refused (permission_denied), as the runtime could not grant it.
Result<std::vector<std::string>> resolve_capabilities(const std::vector<std::string>& add,
                                                      const std::vector<std::string>& drop, bool privileged,
                                                      const std::set<std::string>& host);

}  // namespace zl
