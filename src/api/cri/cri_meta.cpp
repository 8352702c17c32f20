#include "api/cri/cri_meta.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace zl::cri {

using nlohmann::json;

namespace {

std::string safe(std::string s) {
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ch = '-';
  return s;
}

template <class T>
Result<T> parse_as(const std::string& text, const char* what) {
  try {
    return json::parse(text).get<T>();
  } catch (const std::exception& e) {
    return invalid_argument("unreadable CRI {} record: {}", what, e.what());
  }
}

}  // namespace

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SandboxMeta, name, uid, ns, attempt, labels, annotations, hostname,
                                                log_directory, runtime_handler, host_network, shared_pid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerMeta, name, attempt, labels, annotations, image, log_path)

std::string encode(const SandboxMeta& m) { return json(m).dump(); }
std::string encode(const ContainerMeta& m) { return json(m).dump(); }
Result<SandboxMeta> decode_sandbox(const std::string& text) { return parse_as<SandboxMeta>(text, "sandbox"); }
Result<ContainerMeta> decode_container(const std::string& text) {
  return parse_as<ContainerMeta>(text, "container");
}

std::string sandbox_name(const SandboxMeta& m) {
  return safe(fmt::format("k8s_POD_{}_{}_{}_{}", m.name, m.ns, m.uid, m.attempt));
}

std::string container_name(const ContainerMeta& c, const SandboxMeta& pod) {
  return safe(fmt::format("k8s_{}_{}_{}_{}_{}", c.name, pod.name, pod.ns, pod.uid, c.attempt));
}

bool labels_match(const StringMap& labels, const StringMap& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

std::string label(const ContainerInfo& c, const char* key) {
  auto it = c.spec.labels.find(key);
  return it == c.spec.labels.end() ? "" : it->second;
}

bool is_sandbox(const ContainerInfo& c) { return label(c, kKindLabel) == "sandbox"; }
bool is_cri_container(const ContainerInfo& c) { return label(c, kKindLabel) == "container"; }

std::string resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& searches,
                        const std::vector<std::string>& options) {
  std::string out;
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!searches.empty()) out += fmt::format("search {}\n", fmt::join(searches, " "));
  if (!options.empty()) out += fmt::format("options {}\n", fmt::join(options, " "));
  return out;
}

std::string exit_reason(const ExitInfo& e) {
  if (e.reason == ExitInfo::Reason::oom_killed) return "OOMKilled";
  if (e.reason == ExitInfo::Reason::runtime_error) return "Error";
  return e.exit_code == 0 ? "Completed" : "Error";
}

}  // namespace zl::cri
