// Container operations the CRI needs that the Runtime interface has no call for (yet): live
// resource updates (`<oci runtime> update`) and log reopening (conmon's ctl fifo).
#include <fcntl.h>
#include <unistd.h>

#include "api/cri/cri_services.h"
#include "runtime/linux/oci_cli.h"

namespace zl::api::cri {

zl::Status update_resources(LinuxRuntime& rt, const std::string& root, const std::string& id, const Resources& r) {
  ZL_TRY_ASSIGN(auto oci, rt.oci_runtime());
  std::vector<std::string> args = {"update"};
  if (r.cpus) {
    args.insert(args.end(), {"--cpu-period", "100000", "--cpu-quota",
                             std::to_string(static_cast<int64_t>(*r.cpus * 100000))});
  }
  if (r.cpu_shares) args.insert(args.end(), {"--cpu-share", std::to_string(*r.cpu_shares)});
  if (r.memory) args.insert(args.end(), {"--memory", std::to_string(*r.memory)});
  if (r.memory_swap) args.insert(args.end(), {"--memory-swap", std::to_string(*r.memory_swap)});
  if (r.cpuset_cpus) args.insert(args.end(), {"--cpuset-cpus", *r.cpuset_cpus});
  if (args.size() == 1) return {};
  args.push_back(id);
  OciCli cli(oci.name, oci.path, fs::path(root) / "run" / "oci");
  ZL_TRY(cli.run("update", id, args));
  return {};
}

zl::Status reopen_log(LinuxRuntime& rt, const std::string& id) {
  fs::path fifo = rt.containers().paths(id).ctl_fifo();
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return unavailable("reopen the log of {}: its monitor does not listen ({})", id.substr(0, 12),
                              std::strerror(errno));
  // conmon's ctl protocol: "<type> <height> <width>\n", type 2 = reopen the log file.
  std::string msg = "2 0 0\n";
  if (::write(fd.get(), msg.data(), msg.size()) != static_cast<ssize_t>(msg.size()))
    return errno_error(errno, "reopen the log of " + id.substr(0, 12));
  return {};
}

}  // namespace zl::api::cri
