#include "net/cni.h"

#include <unistd.h>

#include <cstdlib>

#include "common/strings.h"
#include "common/subprocess.h"

namespace zl::net {

using json = nlohmann::json;

namespace {

template <class T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

const CniIpConfig* CniResult::container_ip() const {
  for (const auto& ip : ips) {
    if (ip.interface && *ip.interface >= 0 && static_cast<size_t>(*ip.interface) < interfaces.size() &&
        interfaces[static_cast<size_t>(*ip.interface)].sandbox.empty())
      continue;  // an address on a host-side interface
    return &ip;
  }
  return nullptr;
}

const CniInterface* CniResult::container_interface() const {
  const CniIpConfig* ip = container_ip();
  if (ip && ip->interface && *ip->interface >= 0 && static_cast<size_t>(*ip->interface) < interfaces.size())
    return &interfaces[static_cast<size_t>(*ip->interface)];
  for (const auto& i : interfaces)
    if (!i.sandbox.empty()) return &i;
  return nullptr;
}

Result<CniResult> parse_cni_result(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return invalid_argument("CNI result is not a JSON object");
    CniResult r;
    r.cni_version = get_or<std::string>(j, "cniVersion", "");
    for (const auto& i : j.value("interfaces", json::array()))
      r.interfaces.push_back({get_or<std::string>(i, "name", ""), get_or<std::string>(i, "mac", ""),
                              get_or<std::string>(i, "sandbox", "")});
    for (const auto& ip : j.value("ips", json::array())) {
      CniIpConfig c{.address = ip.at("address").get<std::string>(), .gateway = get_or<std::string>(ip, "gateway", "")};
      if (auto it = ip.find("interface"); it != ip.end() && it->is_number_integer()) c.interface = it->get<int>();
      r.ips.push_back(std::move(c));
    }
    for (const auto& rt : j.value("routes", json::array()))
      r.routes.push_back({rt.at("dst").get<std::string>(), get_or<std::string>(rt, "gw", "")});
    if (auto d = j.find("dns"); d != j.end() && d->is_object()) {
      r.dns.nameservers = get_or<std::vector<std::string>>(*d, "nameservers", {});
      r.dns.search = get_or<std::vector<std::string>>(*d, "search", {});
      r.dns.options = get_or<std::vector<std::string>>(*d, "options", {});
      r.dns.domain = get_or<std::string>(*d, "domain", "");
    }
    r.raw = std::move(j);
    return r;
  } catch (const json::exception& e) {
    return invalid_argument("CNI result is not valid: {}", e.what());
  }
}

Error cni_error(std::string_view plugin, std::string_view command, const SubprocessResult& r) {
  std::string what = fmt::format("CNI plugin {} {} failed", plugin, command);
  int code = 0;
  std::string msg, details;
  try {
    json j = json::parse(r.out);
    if (j.is_object() && j.contains("code")) {
      code = j.at("code").get<int>();
      msg = get_or<std::string>(j, "msg", "");
      details = get_or<std::string>(j, "details", "");
    }
  } catch (const json::exception&) {
  }
  if (code == 0) {  // not a CNI error document: the exit status and stderr tell
    return Error{ErrorKind::internal, fmt::format("{}: {}", what, r.describe())};
  }
  ErrorKind kind = ErrorKind::internal;
  switch (code) {
    case 1: kind = ErrorKind::unsupported; break;
    case 2: case 4: case 6: case 7: kind = ErrorKind::invalid_argument; break;
    case 3: kind = ErrorKind::not_found; break;
    case 5: kind = ErrorKind::io; break;
    case 11: kind = ErrorKind::unavailable; break;
    default: break;
  }
  std::string text = trim(msg);
  if (!details.empty() && details != msg) text += (text.empty() ? "" : ": ") + trim(details);
  if ((msg + details).find("no IP addresses available") != std::string::npos) {
    kind = ErrorKind::unavailable;
    text = "no free address left in the network's subnet (" + text + ")";
  }
  return Error{kind, fmt::format("{}: {} (code {})", what, text, code)};
}

std::vector<std::filesystem::path> Cni::default_plugin_dirs() {
  std::vector<std::filesystem::path> out;
  if (const char* env = std::getenv("ZLAYER_CNI_PATH"); env && *env) {
    for (const auto& d : split(env, ':')) out.emplace_back(d);
    return out;
  }
  return {"/usr/lib/cni", "/opt/cni/bin"};
}

Cni::Cni(std::vector<std::filesystem::path> plugin_dirs) : dirs_(std::move(plugin_dirs)) {}

Result<std::string> Cni::plugin_path(const std::string& type) const {
  if (type.empty() || type.find('/') != std::string::npos) return invalid_argument("invalid CNI plugin type \"{}\"", type);
  std::string searched;
  for (const auto& d : dirs_) {
    auto p = d / type;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
    searched += (searched.empty() ? "" : ":") + d.string();
  }
  return not_found("CNI plugin \"{}\" not found in {} (install containernetworking-plugins)", type, searched);
}

json Cni::plugin_config(const json& list, const json& plugin, const CniRuntimeArgs& args,
                        const std::optional<json>& prev) {
  json conf = plugin;
  conf["cniVersion"] = list.value("cniVersion", std::string(kCniVersion));
  conf["name"] = list.at("name");
  json rc = json::object();
  if (auto caps = plugin.find("capabilities"); caps != plugin.end() && caps->is_object()) {
    for (const auto& [cap, on] : caps->items())
      if (on.is_boolean() && on.get<bool>() && args.runtime_config.contains(cap)) rc[cap] = args.runtime_config[cap];
  }
  if (!rc.empty()) conf["runtimeConfig"] = rc;
  if (prev) conf["prevResult"] = *prev;
  return conf;
}

Result<SubprocessResult> Cni::invoke(std::string_view command, const json& conf, const CniRuntimeArgs& args) const {
  std::string type = conf.value("type", "");
  ZL_TRY_ASSIGN(std::string path, plugin_path(type));
  std::string cni_path;
  for (const auto& d : dirs_) cni_path += (cni_path.empty() ? "" : ":") + d.string();
  SubprocessOptions o;
  o.env = std::vector<std::string>{
      "CNI_COMMAND=" + std::string(command), "CNI_CONTAINERID=" + args.container_id, "CNI_NETNS=" + args.netns,
      "CNI_IFNAME=" + args.ifname,           "CNI_PATH=" + cni_path,
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  o.stdin_data = conf.dump();
  o.timeout = std::chrono::seconds(60);
  return run_process({path}, o).map_error([&](Error e) { return std::move(e).wrap("run CNI plugin " + type); });
}

Result<CniResult> Cni::add(const json& list, const CniRuntimeArgs& args) const {
  std::optional<json> prev;
  CniResult last;
  const json& plugins = list.at("plugins");
  for (size_t i = 0; i < plugins.size(); ++i) {
    json conf = plugin_config(list, plugins[i], args, prev);
    std::string type = conf.value("type", "");
    auto failed = [&](Error e) -> tl::unexpected<Error> {
      // What the earlier plugins did goes again (the spec asks the runtime to DEL after a failed ADD).
      json partial = list;
      partial["plugins"] = json(std::vector<json>(plugins.begin(), plugins.begin() + static_cast<long>(i) + 1));
      (void)del(partial, args, prev);
      return tl::unexpected(std::move(e));
    };
    auto r = invoke("ADD", conf, args);
    if (!r) return failed(r.error());
    if (!r->ok()) return failed(cni_error(type, "ADD", *r));
    auto parsed = parse_cni_result(r->out);
    if (!parsed) return failed(parsed.error().wrap(fmt::format("CNI plugin {} ADD", type)));
    last = std::move(*parsed);
    prev = last.raw;
  }
  return last;
}

Status Cni::del(const json& list, const CniRuntimeArgs& args, const std::optional<json>& prev_result) const {
  std::optional<Error> first;
  const json& plugins = list.at("plugins");
  for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
    json conf = plugin_config(list, *it, args, prev_result);
    std::string type = conf.value("type", "");
    auto r = invoke("DEL", conf, args);
    if (!r) {
      if (!first) first = r.error();
      continue;
    }
    if (!r->ok() && !first) first = cni_error(type, "DEL", *r);
  }
  if (first) return tl::unexpected(*first);
  return {};
}

Status Cni::check(const json& list, const CniRuntimeArgs& args, const json& prev_result) const {
  for (const auto& plugin : list.at("plugins")) {
    json conf = plugin_config(list, plugin, args, prev_result);
    ZL_TRY_ASSIGN(auto r, invoke("CHECK", conf, args));
    if (!r.ok()) return tl::unexpected(cni_error(conf.value("type", ""), "CHECK", r));
  }
  return {};
}

}  // namespace zl::net
