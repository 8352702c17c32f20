// The iptables rules zlayer writes itself (CNI's plugins write the rest): isolation between
// networks, and the clean-up of rules that carry a zlayer container's tag after a crash. Every
// rule and chain of ours carries "zlayer" in its chain name or comment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl::net {

// Traffic from `bridge` to any other zlayer bridge (`all_bridges`, an iptables wildcard such
// as "zl+") is dropped. In the mangle table's FORWARD chain, which runs before filter's, so no
// ACCEPT of CNI's firewall plugin can let it through:
//   FORWARD -> ZLAYER-ISOLATION: -i <bridge> -j ZLAYER-ISO-<bridge>
//   ZLAYER-ISO-<bridge>: -o <bridge> -j RETURN; -o <all_bridges> -j DROP
// Idempotent.
Status ensure_isolation(const std::string& bridge, const std::string& all_bridges,
                        const std::string& network);
// Removes what ensure_isolation added for `bridge`; missing rules are fine.
Status remove_isolation(const std::string& bridge, const std::string& network);

// A network's way out, set once per bridge instead of per container (each per-container rule
// would cost plugin execs of iptables on every run): masquerade of its subnet when it leaves
// through another interface (nat POSTROUTING), and forwarding to and from the bridge accepted
// (filter FORWARD, for hosts whose policy is DROP). Tagged "zlayer network <name>". Idempotent.
Status ensure_network_egress(const std::string& bridge, const std::string& subnet,
                             const std::string& network);
Status remove_network_egress(const std::string& bridge, const std::string& subnet,
                             const std::string& network);

// Deletes every rule (in the nat, filter and mangle tables) whose text contains `tag` (e.g.
// `id: "zlayer-<id>"`, as CNI's bridge and portmap plugins comment theirs), and the per-container
// CNI chains those rules jumped to. For rules a crash left behind.
Status remove_tagged_rules(const std::string& tag);

// One line of iptables-save ("-A CHAIN -m comment --comment \"a b\" -j X") as arguments.
std::vector<std::string> split_iptables_rule(std::string_view line);

}  // namespace zl::net
