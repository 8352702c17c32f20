#include "runtime/windows/portable/service_mapping.h"

namespace zl::win {
namespace {

tl::unexpected<Error> no_meaning(const spec::ServiceSpec& s, std::string_view field, std::string_view why) {
  return unsupported("service {}: {} is not supported on Windows ({})", s.name, field, why);
}

}  // namespace

Result<WindowsServiceFields> windows_service_fields(const spec::ServiceSpec& s) {
  if (!s.capabilities.empty() || !s.cap_drop.empty())
    return no_meaning(s, "capabilities", "Linux capabilities");
  if (s.privileged) return no_meaning(s, "privileged", "no privileged mode for Windows containers");
  if (s.read_only_root_fs) return no_meaning(s, "read_only_root_fs", "the scratch layer is always writable");
  if (!s.sysctls.empty()) return no_meaning(s, "sysctls", "Linux kernel parameters");
  if (!s.ulimits.empty()) return no_meaning(s, "ulimits", "POSIX resource limits");
  if (!s.devices.empty()) return no_meaning(s, "devices", "Linux device nodes");
  if (s.resources.pids_limit) return no_meaning(s, "resources.pids_limit", "a Linux cgroup limit");
  if (!s.storage.empty())
    return no_meaning(s, "storage", "mapped directories are not done by the Windows backend yet");
  if (s.user) return no_meaning(s, "user", "container users are not done by the Windows backend yet");

  WindowsServiceFields f;
  f.cpus = s.resources.cpu;
  f.memory_bytes = s.resources.memory;
  f.hostname = s.hostname;
  f.isolation = s.isolation == spec::Isolation::vm ? Isolation::hyperv : Isolation::process;
  if (s.command.entrypoint) f.argv = *s.command.entrypoint;
  if (s.command.args) f.argv.insert(f.argv.end(), s.command.args->begin(), s.command.args->end());
  if (f.argv.empty())
    return invalid_argument(
        "service {}: give command.entrypoint or command.args (the Windows backend does not read "
        "image configs yet)",
        s.name);
  f.workdir = s.command.workdir.value_or("");
  for (const auto& [k, v] : s.env) {
    if (v.host_var && !v.resolved)
      return invalid_argument("service {}: env {} ($E:{}) is not resolved", s.name, k, *v.host_var);
    f.env[k] = v.value;
  }
  return f;
}

}  // namespace zl::win
