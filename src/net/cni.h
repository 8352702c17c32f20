// Calling CNI plugins (spec 1.0.0) the way a container runtime does: one plugin binary per
// step, the network config on stdin, CNI_* in the environment, the result (or an error
// {code,msg,details}) on stdout. A plugin list chains its plugins through prevResult; DEL runs
// them in reverse and tolerates state that is already gone.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/subprocess.h"

namespace zl::net {

inline constexpr const char* kCniVersion = "1.0.0";

struct CniInterface {
  std::string name, mac, sandbox;  // sandbox: the netns path for interfaces inside the container
};

struct CniIpConfig {
  std::string address;  // CIDR: "10.200.0.5/24"
  std::string gateway;  // may be empty
  std::optional<int> interface;  // index into interfaces
};

struct CniRoute {
  std::string dst, gw;
};

struct CniDns {
  std::vector<std::string> nameservers, search, options;
  std::string domain;
};

// A plugin's (or a whole list's) result.
struct CniResult {
  std::string cni_version;
  std::vector<CniInterface> interfaces;
  std::vector<CniIpConfig> ips;
  std::vector<CniRoute> routes;
  CniDns dns;
  nlohmann::json raw;  // as the plugin printed it: the prevResult of the next one

  // The first address of the interface inside the container's namespace (sandbox set).
  const CniIpConfig* container_ip() const;
  // Its interface (mac), when the result names one.
  const CniInterface* container_interface() const;
};

// Parses a result document (any 0.3+/1.0 success output). invalid_argument when it is not one.
Result<CniResult> parse_cni_result(std::string_view text);

// The error a failed plugin call means, from its output (CNI's {"code","msg","details"} on
// stdout, else its stderr): "CNI plugin bridge ADD failed: <msg>: <details> (code N)". Kind by
// code: 1 unsupported, 2/4/6/7 invalid_argument, 3 not_found, 5 io, 11 unavailable, others
// internal; an exhausted address range ("no IP addresses available") is unavailable.
Error cni_error(std::string_view plugin, std::string_view command, const SubprocessResult& r);

// What the runtime says about one attachment (CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, runtimeConfig).
struct CniRuntimeArgs {
  std::string container_id;
  std::string netns;  // path; may be empty for DEL
  std::string ifname = "eth0";
  nlohmann::json runtime_config = nlohmann::json::object();  // e.g. {"portMappings": [...]}
};

class Cni {
 public:
  // Plugin binaries are looked up in these directories, in order (CNI_PATH).
  explicit Cni(std::vector<std::filesystem::path> plugin_dirs = default_plugin_dirs());
  // $ZLAYER_CNI_PATH (colon separated) or /usr/lib/cni:/opt/cni/bin.
  static std::vector<std::filesystem::path> default_plugin_dirs();

  // ADD through every plugin of `list` ({"cniVersion","name","plugins":[...]}): the final
  // result. When a plugin fails, the plugins already run are DELeted again before returning.
  Result<CniResult> add(const nlohmann::json& list, const CniRuntimeArgs& args) const;
  // DEL in reverse order with prevResult (the result ADD returned, when known). Every plugin
  // is called even when one fails; the first failure is returned.
  Status del(const nlohmann::json& list, const CniRuntimeArgs& args,
             const std::optional<nlohmann::json>& prev_result) const;
  Status check(const nlohmann::json& list, const CniRuntimeArgs& args, const nlohmann::json& prev_result) const;

  // One plugin's stdin for `command`: the plugin's config with the list's cniVersion and name,
  // runtimeConfig cut down to the capabilities the plugin declares, and prevResult.
  static nlohmann::json plugin_config(const nlohmann::json& list, const nlohmann::json& plugin,
                                      const CniRuntimeArgs& args, const std::optional<nlohmann::json>& prev);

 private:
  Result<std::string> plugin_path(const std::string& type) const;
  Result<SubprocessResult> invoke(std::string_view command, const nlohmann::json& conf,
                                  const CniRuntimeArgs& args) const;
  std::vector<std::filesystem::path> dirs_;
};

}  // namespace zl::net
