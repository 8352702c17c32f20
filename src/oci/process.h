// The container's process from the image config and the user's ContainerSpec, by docker's
// rules: argv (entrypoint + cmd), environment, working directory, stop signal.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "oci/image_config.h"
#include "runtime/container_spec.h"

namespace zl {

// Docker's PATH for containers whose image sets none.
inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// spec.entrypoint (when set, even empty) replaces the image's Entrypoint and drops the image's
// Cmd; a non-empty spec.cmd replaces the image's Cmd. argv = entrypoint + cmd.
// Empty argv -> invalid_argument "no command specified".
Result<std::vector<std::string>> resolve_args(const ContainerSpec& spec, const ImageRunConfig& image);

struct EnvDefaults {
  std::string hostname;  // HOSTNAME
  bool tty = false;      // TERM=xterm
  std::string home;      // HOME, when neither image nor spec sets it; empty: none
};

// PATH (docker's default), HOSTNAME and TERM (tty only) first; then the image's env, then the
// spec's, each replacing an earlier entry with the same key in place ("KEY" alone removes KEY);
// then HOME if still absent. Entries with an empty key -> invalid_argument.
Result<std::vector<std::string>> merge_env(const std::vector<std::string>& image_env,
                                           const std::vector<std::string>& spec_env, const EnvDefaults& d);

// spec.workdir (must be absolute), else the image's WorkingDir, else "/"; lexically normalized.
Result<std::string> resolve_workdir(const ContainerSpec& spec, const ImageRunConfig& image);

// spec.stop_signal, else the image's StopSignal, else SIGTERM; validated.
Result<int> resolve_stop_signal(const ContainerSpec& spec, const ImageRunConfig& image);

}  // namespace zl
