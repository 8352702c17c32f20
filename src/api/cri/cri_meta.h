// What the CRI says of a pod or a container that zlayer itself has no field for (metadata, CRI
// labels and annotations, log path, DNS), kept with the container as labels so that nothing lives
// only in the daemon's memory: a restarted daemon reports the same pods. A pod sandbox is a small
// "pause" container whose network namespace the pod's containers join (network mode
// container:<sandbox id>); the sandbox id is that container's id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/container.h"

namespace zl::cri {

inline constexpr const char* kKindLabel = "zlayer.cri.kind";        // "sandbox" | "container"
inline constexpr const char* kSandboxLabel = "zlayer.cri.sandbox";  // a container's sandbox id
inline constexpr const char* kMetaLabel = "zlayer.cri.meta";        // the JSON of SandboxMeta / ContainerMeta

using StringMap = std::map<std::string, std::string>;

struct SandboxMeta {
  std::string name, uid, ns;
  uint32_t attempt = 0;
  StringMap labels, annotations;
  std::string hostname;
  std::string log_directory;
  std::string runtime_handler;
  bool host_network = false;
  bool shared_pid = false;  // one PID namespace for the pod (shareProcessNamespace)
  bool operator==(const SandboxMeta&) const = default;
};

struct ContainerMeta {
  std::string name;
  uint32_t attempt = 0;
  StringMap labels, annotations;
  std::string image;     // as the kubelet asked for it
  std::string log_path;  // absolute (the sandbox's log_directory joined), empty: none
  bool operator==(const ContainerMeta&) const = default;
};

std::string encode(const SandboxMeta& m);
std::string encode(const ContainerMeta& m);
Result<SandboxMeta> decode_sandbox(const std::string& json_text);
Result<ContainerMeta> decode_container(const std::string& json_text);

// Container names as CRI runtimes make them (k8s_POD_<pod>_<ns>_<uid>_<attempt> and
// k8s_<container>_<pod>_<ns>_<uid>_<attempt>), with characters zlayer's names do not allow as '-'.
std::string sandbox_name(const SandboxMeta& m);
std::string container_name(const ContainerMeta& c, const SandboxMeta& pod);

// The CRI label selector: every key present with the same value.
bool labels_match(const StringMap& labels, const StringMap& selector);

// Is this zlayer container a CRI sandbox / a CRI container (by kKindLabel)?
bool is_sandbox(const ContainerInfo& c);
bool is_cri_container(const ContainerInfo& c);
// The label's value, or "".
std::string label(const ContainerInfo& c, const char* key);

// The resolv.conf of a pod's DNSConfig ("nameserver", "search", "options" lines).
std::string resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& searches,
                        const std::vector<std::string>& options);

// The kubelet's reason for an exited container: "Completed" (0), "OOMKilled", else "Error".
std::string exit_reason(const ExitInfo& e);

}  // namespace zl::cri
