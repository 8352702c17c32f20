// Timestamps as docker prints them: RFC 3339 in UTC.
#pragma once

#include <cstdint>
#include <string>

namespace zl {

// "2026-11-23T04:27:56.123456789Z"; 0 or less (never) is docker's zero time "0001-01-01T00:00:00Z".
std::string rfc3339_nano(int64_t unix_nano);
// "2026-11-23T04:27:56Z" (docker's CreatedAt of volumes and networks).
std::string rfc3339_seconds(int64_t unix_nano);

}  // namespace zl
