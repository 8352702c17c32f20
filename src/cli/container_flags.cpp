#include "cli/container_flags.h"

#include <cmath>

#include "common/fs.h"
#include "common/strings.h"
#include "net/port_spec.h"
#include "runtime/vm/vm_runtime.h"
#include "store/volume_store.h"

namespace zl::cli {

void add_container_flags(CLI::App* c, ContainerFlags& f) {
  c->set_help_flag("--help", "Print this help message and exit");  // -h is --hostname, as in docker
  c->add_option("--name", f.name, "Container name");
  c->add_option("-e,--env", f.env, "KEY=value (repeatable)")->allow_extra_args(false);
  c->add_option("--env-file", f.env_files, "File of KEY=value lines")->allow_extra_args(false);
  c->add_option("-w,--workdir", f.workdir, "Working directory inside the container");
  c->add_option("-u,--user", f.user, "name | uid | uid:gid | name:group");
  c->add_option("--entrypoint", f.entrypoint, "Override the image's entrypoint");
  c->add_option("-m,--memory", f.memory, "Memory limit (e.g. 64m)");
  c->add_option("--memory-swap", f.memory_swap, "Memory + swap limit; -1 unlimited");
  c->add_option("--cpus", f.cpus, "CPU cores (e.g. 1.5)");
  c->add_option("--cpu-shares", f.cpu_shares, "Relative CPU weight");
  c->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs allowed (e.g. 0-1)");
  c->add_option("--pids-limit", f.pids_limit, "Maximum number of processes");
  c->add_option("--cap-add", f.cap_add, "Add a capability")->allow_extra_args(false);
  c->add_option("--cap-drop", f.cap_drop, "Drop a capability")->allow_extra_args(false);
  c->add_flag("--privileged", f.privileged, "All capabilities, devices, no seccomp");
  c->add_flag("--read-only", f.read_only, "Read-only root filesystem");
  // --isolation is kept as the label that asks for it (vm::kIsolationLabel).
  c->add_option_function<std::string>(
      "--isolation", [&f](const std::string& v) { f.labels.push_back(std::string(vm::kIsolationLabel) + "=" + v); },
      "process (default) | vm: the container in a micro-VM of its own");
  c->add_option("-v,--volume", f.volumes, "HOST_PATH|VOLUME:CONTAINER_PATH[:ro]")->allow_extra_args(false);
  c->add_option("--tmpfs", f.tmpfs, "CONTAINER_PATH[:options]")->allow_extra_args(false);
  c->add_option("-h,--hostname", f.hostname, "Container host name");
  c->add_option("--stop-signal", f.stop_signal, "Signal to stop the container");
  c->add_option("--stop-timeout", f.stop_timeout, "Seconds before SIGKILL on stop");
  c->add_option("--ulimit", f.ulimits, "NAME=SOFT[:HARD]")->allow_extra_args(false);
  c->add_option("--sysctl", f.sysctls, "KEY=VALUE")->allow_extra_args(false);
  c->add_option("--device", f.devices, "HOST[:CONTAINER[:PERMISSIONS]]")->allow_extra_args(false);
  c->add_option("--security-opt", f.security_opts, "no-new-privileges | seccomp=unconfined|PATH")->allow_extra_args(false);
  c->add_option("-l,--label", f.labels, "KEY=VALUE")->allow_extra_args(false);
  c->add_option("--network,--net", f.networks,
                "bridge | none | host | container:NAME | a network's name (repeatable: more networks)")
      ->allow_extra_args(false);
  c->add_option("-p,--publish", f.publish, "[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]")->allow_extra_args(false);
  c->add_option("--network-alias", f.network_aliases, "Another name the container answers to on its networks")
      ->allow_extra_args(false);
  c->add_option("--pull", f.pull, "always | newer | if_not_present | never")->capture_default_str();
  c->add_flag("-t,--tty", f.tty, "Allocate a pseudo-terminal");
  c->add_flag("-i,--interactive", f.interactive, "Keep stdin open");
  c->add_option("image", f.image, "Image")->required();
  // Everything after the image is the container's command, options included (read it with
  // command_after_positionals()).
  c->prefix_command();
}

std::vector<std::string> command_after_positionals(const CLI::App* c) {
  std::vector<std::string> rest = c->remaining();
  if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
  return rest;
}

Result<int64_t> parse_bytes(const std::string& text, std::string_view what) {
  if (text == "-1") return -1;
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return invalid_argument("invalid {} \"{}\": expected a size like 512k, 64m or 2g", what, text);
  }
  std::string unit = text.substr(pos);
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
  double mult = unit.empty() || unit == "b" ? 1 : unit == "k" ? 1024.0 : unit == "m" ? 1048576.0
                : unit == "g" ? 1073741824.0 : unit == "t" ? 1099511627776.0 : 0;
  if (mult == 0 || value < 0 || !std::isfinite(value))
    return invalid_argument("invalid {} \"{}\": expected a size like 512k, 64m or 2g", what, text);
  return static_cast<int64_t>(value * mult);
}

namespace {

Result<std::pair<std::string, std::string>> split_kv(const std::string& s, std::string_view what) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return invalid_argument("invalid {} \"{}\": expected KEY=VALUE", what, s);
  return std::pair{s.substr(0, eq), s.substr(eq + 1)};
}

// "/host:/ctr[:ro]" binds, "name:/ctr[:ro,nocopy]" a named volume, "/ctr" an anonymous one.
Result<Mount> parse_volume(const std::string& v) {
  std::vector<std::string> parts = split(v, ':');
  if (parts.size() == 1 && v[0] == '/') return Mount{.type = Mount::Type::volume, .target = v};
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() || parts[1][0] != '/')
    return invalid_argument(
        "invalid volume \"{}\": expected SOURCE:/container/path[:ro|rw] or /container/path", v);
  Mount m;
  m.type = parts[0][0] == '/' ? Mount::Type::bind : Mount::Type::volume;
  m.source = parts[0];
  m.target = parts[1];
  if (parts.size() == 3) {
    for (const auto& mode : split(parts[2], ',')) {
      if (mode == "ro") {
        m.read_only = true;
      } else if (mode == "nocopy" && m.type == Mount::Type::volume) {
        m.options.push_back(mode);
      } else if (mode != "rw") {
        return invalid_argument("invalid volume mode \"{}\" in \"{}\": use ro, rw or (for a volume) nocopy",
                                mode, v);
      }
    }
  }
  if (m.type == Mount::Type::volume) ZL_TRY(validate_volume_name(m.source));
  if (m.type == Mount::Type::bind && !fs::exists(m.source))
    return not_found("bind mount source {} does not exist", m.source);
  return m;
}

}  // namespace

Result<ContainerSpec> to_container_spec(const ContainerFlags& f) {
  ContainerSpec s;
  s.name = f.name;
  s.image = f.image;
  s.cmd = f.command;
  if (!f.entrypoint.empty()) s.entrypoint = std::vector<std::string>{f.entrypoint};
  for (const auto& file : f.env_files) {
    ZL_TRY_ASSIGN(auto text, read_file(file));
    size_t start = 0;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? text.size() : nl + 1;
      if (line.empty() || line[0] == '#') continue;
      s.env.push_back(line.find('=') == std::string::npos ? line + "=" : line);
    }
  }
  for (const auto& e : f.env) {
    if (e.empty() || e[0] == '=') return invalid_argument("invalid environment variable \"{}\"", e);
    if (e.find('=') != std::string::npos) {
      s.env.push_back(e);
    } else if (const char* v = std::getenv(e.c_str())) {  // "-e NAME" passes our value on, like docker
      s.env.push_back(e + "=" + v);
    }
  }
  s.workdir = f.workdir;
  s.user = f.user;
  s.tty = f.tty;
  s.open_stdin = f.interactive;
  s.hostname = f.hostname;
  s.stop_signal = f.stop_signal;
  if (f.stop_timeout >= 0) s.stop_timeout = f.stop_timeout;
  if (!f.memory.empty()) {
    ZL_TRY_ASSIGN(s.resources.memory, parse_bytes(f.memory, "--memory"));
  }
  if (!f.memory_swap.empty()) {
    ZL_TRY_ASSIGN(s.resources.memory_swap, parse_bytes(f.memory_swap, "--memory-swap"));
  }
  if (!f.cpus.empty()) {
    try {
      size_t pos = 0;
      double cpus = std::stod(f.cpus, &pos);
      if (pos != f.cpus.size() || cpus <= 0) throw std::invalid_argument("cpus");
      s.resources.cpus = cpus;
    } catch (...) {
      return invalid_argument("invalid --cpus \"{}\": expected a positive number like 0.5 or 2", f.cpus);
    }
  }
  if (f.cpu_shares >= 0) s.resources.cpu_shares = static_cast<uint64_t>(f.cpu_shares);
  if (!f.cpuset_cpus.empty()) s.resources.cpuset_cpus = f.cpuset_cpus;
  if (f.pids_limit != 0) s.resources.pids_limit = f.pids_limit;
  s.cap_add = f.cap_add;
  s.cap_drop = f.cap_drop;
  s.privileged = f.privileged;
  s.read_only_rootfs = f.read_only;
  for (const auto& v : f.volumes) {
    ZL_TRY_ASSIGN(auto m, parse_volume(v));
    s.mounts.push_back(std::move(m));
  }
  for (const auto& t : f.tmpfs) {
    Mount m{.type = Mount::Type::tmpfs};
    auto colon = t.find(':');
    m.target = t.substr(0, colon);
    if (m.target.empty() || m.target[0] != '/') return invalid_argument("invalid --tmpfs \"{}\": path must be absolute", t);
    if (colon != std::string::npos) m.options = split(t.substr(colon + 1), ',');
    s.mounts.push_back(std::move(m));
  }
  for (const auto& u : f.ulimits) {
    ZL_TRY_ASSIGN(auto kv, split_kv(u, "--ulimit"));
    Ulimit ul{.name = kv.first};
    try {
      auto colon = kv.second.find(':');
      ul.soft = std::stoull(kv.second.substr(0, colon));
      ul.hard = colon == std::string::npos ? ul.soft : std::stoull(kv.second.substr(colon + 1));
    } catch (...) {
      return invalid_argument("invalid --ulimit \"{}\": expected NAME=SOFT[:HARD] with numbers", u);
    }
    if (ul.soft > ul.hard) return invalid_argument("invalid --ulimit \"{}\": soft limit above the hard limit", u);
    s.ulimits.push_back(ul);
  }
  for (const auto& kv : f.sysctls) {
    ZL_TRY_ASSIGN(auto p, split_kv(kv, "--sysctl"));
    s.sysctls[p.first] = p.second;
  }
  for (const auto& kv : f.labels) {
    auto eq = kv.find('=');
    s.labels[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  if (auto iso = s.labels.find(vm::kIsolationLabel); iso != s.labels.end()) {
    if (iso->second != "vm" && iso->second != "process" && iso->second != "default")
      return invalid_argument("--isolation {}: expected process or vm", iso->second);
    if (iso->second != "vm") s.labels.erase(iso);
  }
  for (const auto& d : f.devices) {
    DeviceMapping m;
    auto c1 = d.find(':');
    m.host_path = d.substr(0, c1);
    if (c1 != std::string::npos) {
      auto c2 = d.find(':', c1 + 1);
      m.container_path = d.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      if (c2 != std::string::npos) m.permissions = d.substr(c2 + 1);
    }
    s.devices.push_back(m);
  }
  if (!f.networks.empty()) {
    s.network_mode = f.networks.front();
    s.networks.assign(f.networks.begin() + 1, f.networks.end());
  }
  for (const auto& p : f.publish) {
    ZL_TRY_ASSIGN(auto port, net::parse_port_spec(p));
    s.ports.push_back(std::move(port));
  }
  s.network_aliases = f.network_aliases;
  for (const auto& o : f.security_opts) {
    if (o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true") {
      s.no_new_privileges = true;
    } else if (o.starts_with("seccomp=") || o.starts_with("seccomp:")) {
      s.seccomp_profile = o.substr(8);
    } else {
      return invalid_argument("unsupported --security-opt \"{}\": use no-new-privileges or seccomp=PROFILE", o);
    }
  }
  return s;
}

}  // namespace zl::cli
