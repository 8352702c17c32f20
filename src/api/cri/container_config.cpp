// CRI configs as zlayer ContainerSpecs: the sandbox's pause container and the pod's containers.
#include <cmath>

#include "api/cri/cri_services.h"
#include "common/fs.h"

namespace zl::api::cri {

namespace {

// zlayer labels: the CRI labels (so `zlayer ps --filter label=...` finds them) plus our record.
std::map<std::string, std::string> cri_labels(const google::protobuf::Map<std::string, std::string>& labels) {
  return {labels.begin(), labels.end()};
}

std::string seccomp_of(const v1::SecurityProfile& p, bool set) {
  if (!set) return "";
  switch (p.profile_type()) {
    case v1::SecurityProfile::Unconfined: return "unconfined";
    case v1::SecurityProfile::Localhost: return p.localhost_ref();
    default: return "";  // RuntimeDefault: docker's default profile
  }
}

std::string user_of(bool has_uid, int64_t uid, bool has_gid, int64_t gid, const std::string& name) {
  std::string user = has_uid ? std::to_string(uid) : name;
  if (has_gid && !user.empty()) user += ":" + std::to_string(gid);
  return user;
}

}  // namespace

Resources resources_of(const v1::LinuxContainerResources& r) {
  Resources out;
  if (r.cpu_quota() > 0) {
    int64_t period = r.cpu_period() > 0 ? r.cpu_period() : 100000;
    out.cpus = static_cast<double>(r.cpu_quota()) / static_cast<double>(period);
  }
  if (r.cpu_shares() > 0) out.cpu_shares = static_cast<uint64_t>(r.cpu_shares());
  if (r.memory_limit_in_bytes() > 0) out.memory = r.memory_limit_in_bytes();
  if (r.memory_swap_limit_in_bytes() != 0) out.memory_swap = r.memory_swap_limit_in_bytes();
  if (!r.cpuset_cpus().empty()) out.cpuset_cpus = r.cpuset_cpus();
  return out;
}

Result<ContainerSpec> sandbox_spec(const v1::PodSandboxConfig& cfg, const std::string& pause_image,
                                   const fs::path& pods_dir) {
  const auto& md = cfg.metadata();
  if (md.name().empty() || md.uid().empty() || md.namespace_().empty())
    return invalid_argument("RunPodSandbox: metadata needs name, uid and namespace");
  SandboxMeta meta{.name = md.name(),
                   .uid = md.uid(),
                   .ns = md.namespace_(),
                   .attempt = md.attempt(),
                   .labels = {cfg.labels().begin(), cfg.labels().end()},
                   .annotations = {cfg.annotations().begin(), cfg.annotations().end()},
                   .hostname = cfg.hostname(),
                   .log_directory = cfg.log_directory()};
  const auto& sc = cfg.linux().security_context();
  meta.host_network = sc.namespace_options().network() == v1::NODE;
  meta.shared_pid = sc.namespace_options().pid() == v1::POD;

  ContainerSpec s;
  s.name = zl::cri::sandbox_name(meta);
  s.image = pause_image;
  s.hostname = meta.host_network ? "" : cfg.hostname();
  s.stop_signal = "SIGKILL";  // the pause process has nothing to finish
  s.network_mode = meta.host_network ? "host" : "";
  for (const auto& p : cfg.port_mappings()) {
    if (p.host_port() <= 0) continue;  // only published ports concern the runtime
    s.ports.push_back(PortMapping{.host_ip = p.host_ip(),
                                  .host_port = static_cast<uint16_t>(p.host_port()),
                                  .container_port = static_cast<uint16_t>(p.container_port()),
                                  .protocol = p.protocol() == v1::UDP ? "udp" : "tcp"});
  }
  if (!meta.host_network) s.sysctls = {cfg.linux().sysctls().begin(), cfg.linux().sysctls().end()};
  s.privileged = sc.privileged();
  s.seccomp_profile = seccomp_of(sc.seccomp(), sc.has_seccomp());
  if (cfg.has_dns_config())
    s.mounts.push_back(Mount{.type = Mount::Type::bind,
                             .source = (pods_dir / s.name / "resolv.conf").string(),
                             .target = "/etc/resolv.conf",
                             .read_only = true});
  s.labels = cri_labels(cfg.labels());
  s.labels[zl::cri::kKindLabel] = "sandbox";
  s.labels[zl::cri::kMetaLabel] = zl::cri::encode(meta);
  return s;
}

Result<ContainerSpec> container_spec(const v1::ContainerConfig& cfg, const ContainerInfo& sandbox,
                                     const SandboxMeta& pod, const fs::path& pod_dir) {
  if (cfg.metadata().name().empty()) return invalid_argument("CreateContainer: metadata.name is required");
  if (cfg.image().image().empty()) return invalid_argument("CreateContainer: image.image is required");
  ContainerMeta meta{.name = cfg.metadata().name(),
                     .attempt = cfg.metadata().attempt(),
                     .labels = {cfg.labels().begin(), cfg.labels().end()},
                     .annotations = {cfg.annotations().begin(), cfg.annotations().end()},
                     .image = cfg.image().user_specified_image().empty() ? cfg.image().image()
                                                                         : cfg.image().user_specified_image()};
  if (!cfg.log_path().empty())
    meta.log_path = pod.log_directory.empty() ? cfg.log_path() : (fs::path(pod.log_directory) / cfg.log_path()).string();

  ContainerSpec s;
  s.name = zl::cri::container_name(meta, pod);
  s.image = cfg.image().image();
  // CRI's command replaces the image's entrypoint and args its cmd (as in a pod spec).
  if (!cfg.command().empty()) s.entrypoint = std::vector<std::string>(cfg.command().begin(), cfg.command().end());
  s.cmd.assign(cfg.args().begin(), cfg.args().end());
  for (const auto& kv : cfg.envs()) s.env.push_back(kv.key() + "=" + kv.value());
  s.workdir = cfg.working_dir();
  s.tty = cfg.tty();
  s.open_stdin = cfg.stdin();
  s.hostname = pod.hostname;
  s.network_mode = "container:" + sandbox.id;
  // The pod's IPC namespace, and its PID namespace when the pod shares one (shareProcessNamespace).
  const auto& ns = cfg.linux().security_context().namespace_options();
  if (ns.ipc() == v1::POD) s.ipc_mode = "container:" + sandbox.id;
  if (ns.pid() == v1::POD) s.pid_mode = "container:" + sandbox.id;

  for (const auto& m : cfg.mounts()) {
    if (m.container_path().empty() || m.host_path().empty())
      return invalid_argument("CreateContainer: a mount needs container_path and host_path");
    Mount mount{.type = Mount::Type::bind,
                .source = m.host_path(),
                .target = m.container_path(),
                .read_only = m.readonly()};
    switch (m.propagation()) {
      case v1::PROPAGATION_HOST_TO_CONTAINER: mount.options.push_back("rslave"); break;
      case v1::PROPAGATION_BIDIRECTIONAL: mount.options.push_back("rshared"); break;
      default: mount.options.push_back("rprivate"); break;
    }
    s.mounts.push_back(std::move(mount));
  }
  bool own_resolv = false;
  for (const auto& m : s.mounts) own_resolv |= m.target == "/etc/resolv.conf";
  if (!own_resolv && fs::exists(pod_dir / "resolv.conf"))
    s.mounts.push_back(Mount{.type = Mount::Type::bind,
                             .source = (pod_dir / "resolv.conf").string(),
                             .target = "/etc/resolv.conf",
                             .read_only = true});
  for (const auto& dev : cfg.devices())
    s.devices.push_back(DeviceMapping{.host_path = dev.host_path(),
                                      .container_path = dev.container_path(),
                                      .permissions = dev.permissions().empty() ? "rwm" : dev.permissions()});

  const auto& lx = cfg.linux();
  s.resources = resources_of(lx.resources());
  const auto& sc = lx.security_context();
  s.privileged = sc.privileged();
  s.read_only_rootfs = sc.readonly_rootfs();
  s.no_new_privileges = sc.no_new_privs();
  s.cap_add.assign(sc.capabilities().add_capabilities().begin(), sc.capabilities().add_capabilities().end());
  s.cap_drop.assign(sc.capabilities().drop_capabilities().begin(), sc.capabilities().drop_capabilities().end());
  s.user = user_of(sc.has_run_as_user(), sc.run_as_user().value(), sc.has_run_as_group(), sc.run_as_group().value(),
                   sc.run_as_username());
  s.seccomp_profile = sc.has_seccomp() ? seccomp_of(sc.seccomp(), true)
                      : sc.seccomp_profile_path() == "unconfined" ? "unconfined"
                      : sc.seccomp_profile_path().starts_with("localhost/") ? sc.seccomp_profile_path().substr(10)
                                                                             : "";

  s.labels = cri_labels(cfg.labels());
  s.labels[zl::cri::kKindLabel] = "container";
  s.labels[zl::cri::kSandboxLabel] = sandbox.id;
  s.labels[zl::cri::kMetaLabel] = zl::cri::encode(meta);
  return s;
}

}  // namespace zl::api::cri
