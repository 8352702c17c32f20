// Building conmon's command line, reading its sync-pipe messages, writing its ctl messages.
#include "runtime/linux/conmon_protocol.h"

#include <nlohmann/json.hpp>

namespace zl {

std::vector<std::string> conmon_argv(const std::string& conmon_path, const OciCli& cli, const std::string& id,
                                     const ContainerPaths& paths, const CreateOptions& opts) {
  std::vector<std::string> a = {
      conmon_path,
      "--api-version",
      "1",
      "-c",
      id,
      "-u",
      id,
      "-n",
      opts.name.empty() ? id : opts.name,
      "-r",
      cli.path(),
      "-b",
      paths.bundle().string(),
      "-p",
      paths.pidfile().string(),
      "-P",
      paths.conmon_pidfile().string(),
      "-l",
      "k8s-file:" + paths.log().string(),
      "--exit-dir",
      paths.exit_dir().string(),
      "--persist-dir",
      paths.persist_dir().string(),
      // The attach socket goes in the bundle dir (no symlink under a --socket-dir-path).
      "--full-attach",
      // The runtime's global flags go before its command; "--runtime-arg=VALUE" keeps a value
      // that starts with "--" from being read as a conmon option.
      "--runtime-arg=--root=" + cli.root().string(),
  };
  if (opts.log_size_max > 0) a.insert(a.end(), {"--log-size-max", std::to_string(opts.log_size_max)});
  if (opts.tty) a.push_back("-t");
  if (opts.open_stdin) a.push_back("-i");
  return a;
}

Result<SyncMessage> parse_sync_message(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_number_integer())
    return invalid_argument("conmon sent \"{}\", not a sync message", std::string(line));
  SyncMessage m;
  m.data = j["data"].get<int>();
  if (j.contains("message") && j["message"].is_string()) m.message = j["message"].get<std::string>();
  return m;
}

std::string resize_message(unsigned short rows, unsigned short cols) {
  return fmt::format("1 {} {}\n", rows, cols);  // 1: conmon's WIN_RESIZE_EVENT
}

}  // namespace zl
