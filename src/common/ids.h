// Identifiers: random ones of 64 hex digits (256 bits from getrandom), as docker's ids for
// containers, volumes and networks; and the id of this boot of the machine.
#pragma once

#include <string>

namespace zl {

std::string random_hex_id();

// /proc/sys/kernel/random/boot_id: changes when the machine reboots (and what was set up in
// the kernel before, namespaces, links, firewall rules, is gone). Empty when unreadable.
std::string boot_id();

}  // namespace zl
