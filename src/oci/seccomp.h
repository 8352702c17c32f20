// Seccomp for a container: docker's default profile (embedded at build time), "unconfined", or a
// profile file, converted into OCI linux.seccomp for the container's capabilities and this host.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/error.h"
#include "oci/host_info.h"

namespace zl {

// docker's profiles/seccomp/default.json, as built into zlayer.
std::string_view docker_default_seccomp_profile();

// Docker's conversion of a profile into linux.seccomp. A rule is kept when its "includes" all
// hold (every listed cap in `caps`, the host arch listed, kernel >= minKernel) and none of its
// "excludes" does (any listed cap, the arch, kernel >= minKernel). "archMap" picks the host's
// SCMP_ARCH_* and its sub-architectures. An OCI-format profile ("architectures", rules without
// includes/excludes) passes through the same way. Malformed profiles -> invalid_argument.
Result<nlohmann::json> convert_seccomp_profile(const nlohmann::json& profile,
                                               const std::set<std::string>& caps, const HostInfo& host);

// ContainerSpec::seccomp_profile -> linux.seccomp; nullopt means none:
//   ""           docker's default profile
//   "unconfined" none
//   a path       that JSON file, docker or OCI format
// A privileged container gets none whatever the profile, as with docker.
Result<std::optional<nlohmann::json>> seccomp_for(const std::string& profile, bool privileged,
                                                  const std::set<std::string>& caps, const HostInfo& host);

}  // namespace zl
