// Docker seccomp profile -> OCI linux.seccomp: arch selection, includes/excludes by capability,
// arch and kernel version, and field checks so a bad profile fails here rather than in runc.
#include "oci/seccomp.h"

#include <algorithm>
#include <set>

#include "common/fs.h"

namespace zl {
namespace {

using json = nlohmann::json;

struct ArchNames {
  const char* uname;   // uname -m
  const char* native;  // docker's/libseccomp's name, used in "arches" filters
  const char* scmp;    // SCMP_ARCH_*
};
constexpr ArchNames kArches[] = {
    {"x86_64", "amd64", "SCMP_ARCH_X86_64"},
    {"i686", "x86", "SCMP_ARCH_X86"},
    {"i386", "x86", "SCMP_ARCH_X86"},
    {"aarch64", "arm64", "SCMP_ARCH_AARCH64"},
    {"armv7l", "arm", "SCMP_ARCH_ARM"},
    {"armv6l", "arm", "SCMP_ARCH_ARM"},
    {"ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE"},
    {"ppc64", "ppc64", "SCMP_ARCH_PPC64"},
    {"s390x", "s390x", "SCMP_ARCH_S390X"},
    {"riscv64", "riscv64", "SCMP_ARCH_RISCV64"},
};

const std::set<std::string> kActions = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                        "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                        "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
const std::set<std::string> kScmpArches = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"};
const std::set<std::string> kOps = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

const ArchNames* host_arch(const std::string& uname) {
  for (const auto& a : kArches)
    if (uname == a.uname) return &a;
  return nullptr;
}

// A list of strings at obj[key]; missing or null is empty.
Result<std::vector<std::string>> strings_at(const json& obj, const char* key, std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array())
    return invalid_argument("seccomp profile: {}.{} must be an array of strings", where, key);
  for (const auto& v : *it) {
    if (!v.is_string())
      return invalid_argument("seccomp profile: {}.{} must be an array of strings", where, key);
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status check_arch(const std::string& arch) {
  if (!kScmpArches.contains(arch))
    return invalid_argument("seccomp profile: unknown architecture \"{}\"", arch);
  return {};
}

struct Filter {
  std::vector<std::string> caps, arches;
  std::optional<KernelVersion> min_kernel;
};

Result<Filter> parse_filter(const json& rule, const char* key, std::string_view where) {
  Filter f;
  auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return f;
  if (!it->is_object()) return invalid_argument("seccomp profile: {}.{} must be an object", where, key);
  std::string at = fmt::format("{}.{}", where, key);
  ZL_TRY_ASSIGN(f.caps, strings_at(*it, "caps", at));
  ZL_TRY_ASSIGN(f.arches, strings_at(*it, "arches", at));
  if (auto k = it->find("minKernel");
      k != it->end() && !k->is_null() && !(k->is_string() && k->get<std::string>().empty())) {
    KernelVersion v = k->is_string() ? parse_kernel_version(k->get<std::string>()) : KernelVersion{};
    if (v == KernelVersion{})
      return invalid_argument("seccomp profile: {}.minKernel must look like \"4.8\"", at);
    f.min_kernel = v;
  }
  return f;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Docker's rule selection for this container and host.
bool applies(const Filter& inc, const Filter& exc, const std::set<std::string>& caps, const std::string& arch,
             KernelVersion kernel) {
  if (contains(exc.arches, arch)) return false;
  if (std::any_of(exc.caps.begin(), exc.caps.end(), [&](const auto& c) { return caps.contains(c); }))
    return false;
  if (exc.min_kernel && kernel >= *exc.min_kernel) return false;
  if (!inc.arches.empty() && !contains(inc.arches, arch)) return false;
  if (!std::all_of(inc.caps.begin(), inc.caps.end(), [&](const auto& c) { return caps.contains(c); }))
    return false;
  if (inc.min_kernel && kernel < *inc.min_kernel) return false;
  return true;
}

Result<json> convert_args(const json& rule, std::string_view where) {
  json out = json::array();
  auto it = rule.find("args");
  if (it == rule.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid_argument("seccomp profile: {}.args must be an array", where);
  for (const auto& a : *it) {
    if (!a.is_object() || !a.contains("index") || !a.contains("value") || !a.contains("op") ||
        !a["index"].is_number_unsigned() || !a["value"].is_number_unsigned() || !a["op"].is_string() ||
        !kOps.contains(a["op"].get<std::string>()))
      return invalid_argument("seccomp profile: {}.args needs index, value (unsigned) and a SCMP_CMP_* op",
                              where);
    json arg = {{"index", a["index"]}, {"value", a["value"]}, {"op", a["op"]}};
    if (a.contains("valueTwo") && a["valueTwo"].is_number_unsigned() && a["valueTwo"] != 0)
      arg["valueTwo"] = a["valueTwo"];
    out.push_back(std::move(arg));
  }
  return out;
}

Result<std::optional<json>> convert_rule(const json& rule, size_t index, const std::set<std::string>& caps,
                                         const HostInfo& host) {
  std::string where = fmt::format("syscalls[{}]", index);
  if (!rule.is_object()) return invalid_argument("seccomp profile: {} must be an object", where);
  ZL_TRY_ASSIGN(auto names, strings_at(rule, "names", where));
  if (auto n = rule.find("name"); n != rule.end() && !n->is_null()) {
    if (!names.empty()) return invalid_argument("seccomp profile: {} has both name and names", where);
    if (!n->is_string()) return invalid_argument("seccomp profile: {}.name must be a string", where);
    names.push_back(n->get<std::string>());
  }
  if (names.empty()) return invalid_argument("seccomp profile: {} names no syscall", where);
  std::string action = rule.value("action", "");
  if (!kActions.contains(action))
    return invalid_argument("seccomp profile: {} has unknown action \"{}\"", where, action);
  ZL_TRY_ASSIGN(Filter inc, parse_filter(rule, "includes", where));
  ZL_TRY_ASSIGN(Filter exc, parse_filter(rule, "excludes", where));
  const ArchNames* arch = host_arch(host.arch);
  if (!applies(inc, exc, caps, arch ? arch->native : host.arch, host.kernel)) return std::nullopt;

  json out = {{"names", names}, {"action", action}};
  if (auto e = rule.find("errnoRet"); e != rule.end() && !e->is_null()) {
    if (!e->is_number_unsigned())
      return invalid_argument("seccomp profile: {}.errnoRet must be unsigned", where);
    out["errnoRet"] = *e;
  }
  ZL_TRY_ASSIGN(json args, convert_args(rule, where));
  if (!args.empty()) out["args"] = std::move(args);
  return out;
}

}  // namespace

Result<json> convert_seccomp_profile(const json& profile, const std::set<std::string>& caps,
                                     const HostInfo& host) {
  if (!profile.is_object()) return invalid_argument("seccomp profile must be a JSON object");
  std::string default_action = profile.value("defaultAction", "");
  if (!kActions.contains(default_action))
    return invalid_argument("seccomp profile: defaultAction \"{}\" is not a SCMP_ACT_* action",
                            default_action);
  json out = {{"defaultAction", default_action}};
  for (const char* key : {"defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"})
    if (auto it = profile.find(key); it != profile.end() && !it->is_null()) out[key] = *it;

  ZL_TRY_ASSIGN(auto arches, strings_at(profile, "architectures", "profile"));
  auto map = profile.find("archMap");
  bool has_map = map != profile.end() && !map->is_null() && !map->empty();
  if (has_map && !arches.empty())
    return invalid_argument("seccomp profile: use either architectures or archMap, not both");
  if (has_map) {
    if (!map->is_array()) return invalid_argument("seccomp profile: archMap must be an array");
    const ArchNames* mine = host_arch(host.arch);
    for (const auto& entry : *map) {
      if (!entry.is_object() || !entry.value("architecture", json()).is_string())
        return invalid_argument("seccomp profile: archMap entries need an architecture");
      std::string a = entry["architecture"];
      ZL_TRY(check_arch(a));
      ZL_TRY_ASSIGN(auto subs, strings_at(entry, "subArchitectures", "archMap"));
      if (mine == nullptr || a != mine->scmp) continue;
      arches.push_back(a);
      arches.insert(arches.end(), subs.begin(), subs.end());
    }
  }
  for (const auto& a : arches) ZL_TRY(check_arch(a));
  if (!arches.empty()) out["architectures"] = arches;

  json syscalls = json::array();
  auto rules = profile.find("syscalls");
  if (rules != profile.end() && !rules->is_null()) {
    if (!rules->is_array()) return invalid_argument("seccomp profile: syscalls must be an array");
    for (size_t i = 0; i < rules->size(); ++i) {
      ZL_TRY_ASSIGN(auto rule, convert_rule((*rules)[i], i, caps, host));
      if (rule) syscalls.push_back(std::move(*rule));
    }
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

Result<std::optional<json>> seccomp_for(const std::string& profile, bool privileged,
                                        const std::set<std::string>& caps, const HostInfo& host) {
  if (privileged || profile == "unconfined") return std::nullopt;
  std::string text(docker_default_seccomp_profile());
  std::string origin = "docker's default";  // named in errors
  if (!profile.empty()) {
    auto file = read_file(profile);
    if (!file) return tl::unexpected(std::move(file).error().wrap("read seccomp profile"));
    text = std::move(*file);
    origin = profile;
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_argument("seccomp profile {} is not valid JSON", origin);
  auto out = convert_seccomp_profile(doc, caps, host);
  if (!out) return tl::unexpected(std::move(out).error().wrap(origin));
  return std::optional<json>(std::move(*out));
}

}  // namespace zl
