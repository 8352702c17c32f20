// One replica of a deployed service as a container: everything a service says about a single
// container (image, process, resources, security, mounts, stop) on a ContainerSpec, plus zlayer's
// labels that tie the container back to its deployment. What is about the service as a whole
// (scale, depends, health, restart_policy, endpoints, rtype, schedule, isolation, lifecycle hooks)
// stays in the spec for the daemon.
#pragma once

#include <string>

#include "common/error.h"
#include "runtime/container_spec.h"
#include "spec/deployment_spec.h"

namespace zl {

// zlayer's own labels on every replica (with kServiceLabel and kReplicaLabel of the runtime's).
inline constexpr const char* kDeploymentLabel = "zlayer.deployment";
inline constexpr const char* kSpecHashLabel = "zlayer.spec-hash";  // spec::spec_hash() of the service

// "<deployment>-<service>-<replica>".
std::string replica_container_name(const spec::DeploymentSpec& deployment, const std::string& service,
                                   int replica);

// The container of replica `replica` (>= 0) of `service`. Unknown service -> not_found; a negative
// replica, or a "$E:" env value not yet resolved (spec::resolve_env) -> invalid_argument.
// Named storage becomes a volume mount whose source is the volume's name: the caller resolves it
// to the volume's directory. Env comes sorted, "KEY=value"; ulimits sorted by name.
Result<ContainerSpec> container_spec_for(const spec::DeploymentSpec& deployment, const std::string& service,
                                         int replica);

}  // namespace zl
