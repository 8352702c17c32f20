// ServiceSpec -> ContainerSpec, field by field.
#include "agent/replica_spec.h"

#include <climits>

#include "runtime/vm/vm_runtime.h"

namespace zl {

std::string replica_container_name(const spec::DeploymentSpec& deployment, const std::string& service,
                                   int replica) {
  return fmt::format("{}-{}-{}", deployment.deployment, service, replica);
}

Result<ContainerSpec> container_spec_for(const spec::DeploymentSpec& deployment, const std::string& service,
                                         int replica) {
  const spec::ServiceSpec* s = deployment.find_service(service);
  if (!s) return not_found("deployment {} has no service \"{}\"", deployment.deployment, service);
  if (replica < 0) return invalid_argument("service {}: invalid replica number {}", service, replica);

  ContainerSpec c;
  c.name = replica_container_name(deployment, service, replica);
  c.image = s->image.name;

  c.entrypoint = s->command.entrypoint;
  if (s->command.args) c.cmd = *s->command.args;
  if (s->command.workdir) c.workdir = *s->command.workdir;
  for (const auto& [name, value] : s->env) {  // std::map: sorted by name
    if (value.host_var && !value.resolved)
      return invalid_argument(
          "service {}: env {} takes $E:{} from zlayer's environment, which was not resolved", service, name,
          *value.host_var);
    c.env.push_back(name + "=" + value.value);
  }
  if (s->user) c.user = *s->user;
  if (s->hostname) c.hostname = *s->hostname;
  if (s->stop_signal) c.stop_signal = *s->stop_signal;
  if (s->stop_grace_period)
    c.stop_timeout = static_cast<int>(std::min<int64_t>(spec::ceil_seconds(*s->stop_grace_period), INT_MAX));

  c.resources.cpus = s->resources.cpu;
  c.resources.memory = s->resources.memory;
  c.resources.pids_limit = s->resources.pids_limit;

  c.cap_add = s->capabilities;
  c.cap_drop = s->cap_drop;
  c.privileged = s->privileged;
  c.read_only_rootfs = s->read_only_root_fs;
  c.sysctls = s->sysctls;
  for (const auto& [name, limit] : s->ulimits) c.ulimits.push_back(Ulimit{name, limit.soft, limit.hard});
  for (const auto& d : s->devices) {
    DeviceMapping m;
    m.host_path = d.path;
    m.permissions.clear();
    if (d.read) m.permissions += 'r';
    if (d.write) m.permissions += 'w';
    if (d.mknod) m.permissions += 'm';
    c.devices.push_back(std::move(m));
  }

  for (const auto& st : s->storage) {
    Mount m;
    m.target = st.target;
    switch (st.type) {
      case spec::StorageType::bind:
        m.type = Mount::Type::bind;
        m.source = st.source;
        m.read_only = st.readonly;
        break;
      case spec::StorageType::named:
        m.type = Mount::Type::volume;
        m.source = st.source;
        m.read_only = st.readonly;
        break;
      case spec::StorageType::tmpfs:
        m.type = Mount::Type::tmpfs;
        if (st.size) m.options.push_back(fmt::format("size={}", *st.size));
        if (st.mode) m.options.push_back(fmt::format("mode={:o}", *st.mode));
        break;
    }
    c.mounts.push_back(std::move(m));
  }

  // Public endpoints are published on the host (http, https and websocket ride on tcp). A host
  // port takes one container: replica 0 gets it; until a proxy spreads the traffic, the other
  // replicas are reached by their addresses (the network's records).
  for (const auto& e : s->endpoints) {
    if (e.expose != spec::Expose::public_ || replica != 0) continue;
    c.ports.push_back(PortMapping{.host_port = e.port,
                                  .container_port = e.target_port ? e.target_port : e.port,
                                  .protocol = e.protocol == spec::Protocol::udp ? "udp" : "tcp"});
  }

  c.labels = s->labels;
  c.labels[kDeploymentLabel] = deployment.deployment;
  c.labels[kServiceLabel] = service;
  c.labels[kReplicaLabel] = std::to_string(replica);
  c.labels[kSpecHashLabel] = spec::spec_hash(*s);
  if (s->health) c.labels[kHealthGatedLabel] = "true";  // only healthy replicas answer to the service
  if (s->isolation == spec::Isolation::vm) c.labels[vm::kIsolationLabel] = "vm";  // its own micro-VM
  return c;
}

}  // namespace zl
