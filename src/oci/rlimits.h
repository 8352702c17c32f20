// Process rlimits (--ulimit) checked against zlayer's own hard limits: without CAP_SYS_RESOURCE
// the runtime cannot raise a hard limit, so asking for more than the host allows only fails later.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oci/host_info.h"
#include "runtime/container_spec.h"

namespace zl {

// "nofile" / "RLIMIT_NOFILE" (any case) -> RLIMIT_NOFILE; nullopt for unknown names.
std::optional<int> rlimit_resource(std::string_view name);

// Lower-case names of every rlimit ("as", "core", ... "stack").
const std::vector<std::string>& rlimit_names();

// Docker's default: RLIMIT_NOFILE soft = hard = 1048576, capped at the host's hard limit.
inline constexpr uint64_t kDefaultNofile = 1048576;

// process.rlimits: the defaults, each replaced by the user's ulimit of the same name.
// Unknown names, soft > hard, or a hard limit above the host's -> invalid_argument naming the
// limit and the host's maximum.
Result<nlohmann::json> build_rlimits(const std::vector<Ulimit>& ulimits, const HostInfo& host);

}  // namespace zl
