// Random identifiers: 64 hex digits (256 bits from getrandom), as docker's ids for containers,
// volumes and networks.
#pragma once

#include <string>

namespace zl {

std::string random_hex_id();

}  // namespace zl
