// Docker's merge of image config and user request for argv, env, cwd and stop signal.
#include "oci/process.h"

#include <algorithm>
#include <csignal>
#include <filesystem>

#include "oci/signals.h"

namespace zl {
namespace {

std::string_view env_key(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// Replaces the entry with the same key in place, or appends; "KEY" (no '=') removes KEY.
Status apply_env(std::vector<std::string>& env, const std::string& entry, std::string_view origin) {
  std::string_view key = env_key(entry);
  if (key.empty())
    return invalid_argument("invalid environment variable \"{}\" in the {}: empty name", entry, origin);
  auto same = [&](const std::string& e) { return env_key(e) == key; };
  auto it = std::find_if(env.begin(), env.end(), same);
  if (entry.find('=') == std::string::npos) {
    env.erase(std::remove_if(env.begin(), env.end(), same), env.end());
  } else if (it != env.end()) {
    *it = entry;
  } else {
    env.push_back(entry);
  }
  return {};
}

}  // namespace

Result<std::vector<std::string>> resolve_args(const ContainerSpec& spec, const ImageRunConfig& image) {
  std::vector<std::string> args = spec.entrypoint ? *spec.entrypoint : image.entrypoint;
  const std::vector<std::string>& cmd = !spec.cmd.empty() ? spec.cmd : image.cmd;
  if (!spec.cmd.empty() || !spec.entrypoint) args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty() || args[0].empty()) return invalid_argument("no command specified");
  return args;
}

Result<std::vector<std::string>> merge_env(const std::vector<std::string>& image_env,
                                           const std::vector<std::string>& spec_env, const EnvDefaults& d) {
  std::vector<std::string> env = {std::string("PATH=") + kDefaultPath, "HOSTNAME=" + d.hostname};
  if (d.tty) env.push_back("TERM=xterm");
  for (const auto& e : image_env) ZL_TRY(apply_env(env, e, "image config"));
  for (const auto& e : spec_env) ZL_TRY(apply_env(env, e, "container spec"));
  bool has_home =
      std::any_of(env.begin(), env.end(), [](const std::string& e) { return env_key(e) == "HOME"; });
  if (!has_home && !d.home.empty()) env.push_back("HOME=" + d.home);
  return env;
}

Result<std::string> resolve_workdir(const ContainerSpec& spec, const ImageRunConfig& image) {
  std::filesystem::path dir = "/";
  if (!spec.workdir.empty()) {
    if (spec.workdir[0] != '/')
      return invalid_argument("working directory \"{}\" must be an absolute path", spec.workdir);
    dir = spec.workdir;
  } else if (!image.working_dir.empty()) {
    dir = std::filesystem::path("/") / image.working_dir;  // docker treats a relative one as from "/"
  }
  std::string out = dir.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<int> resolve_stop_signal(const ContainerSpec& spec, const ImageRunConfig& image) {
  if (!spec.stop_signal.empty()) return parse_signal(spec.stop_signal);
  if (!image.stop_signal.empty()) {
    auto sig = parse_signal(image.stop_signal);
    if (!sig) return tl::unexpected(std::move(sig).error().wrap("image config StopSignal"));
    return sig;
  }
  return SIGTERM;
}

}  // namespace zl
