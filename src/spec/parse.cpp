// Reads a deployment spec from yaml-cpp's node tree. Each value is read through a small Reader
// that knows its path and position, so every message can say where and what was expected;
// yaml-cpp's exceptions stop at parse_deployment().
#include "spec/parse.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "common/fs.h"
#include "image/reference.h"
#include "oci/capabilities.h"
#include "oci/rlimits.h"
#include "oci/signals.h"
#include "oci/sysctls.h"
#include "spec/names.h"
#include "spec/quantity.h"
#include "spec/validate.h"

namespace zl::spec {
namespace {

// A YAML value being read: the node, its path ("services.web.scale.min") and where it was written
// (1-based; for an empty value, where its key was).
struct Value {
  YAML::Node node;
  std::string path;
  int line = 0, column = 0;
  bool null() const { return !node.IsDefined() || node.IsNull(); }
  bool scalar() const { return node.IsDefined() && node.IsScalar(); }
};

// A mapping's entries by name, in the order written.
struct Fields {
  Value self;
  std::vector<std::string> order;
  std::map<std::string, std::pair<Value, Value>, std::less<>> entries;  // name -> key, value

  // Absent and empty ("field:" or "field: ~") alike give nullopt.
  std::optional<Value> get(std::string_view name) const {
    auto it = entries.find(name);
    if (it == entries.end() || it->second.second.null()) return std::nullopt;
    return it->second.second;
  }
  const Value* key(std::string_view name) const {
    auto it = entries.find(name);
    return it == entries.end() ? nullptr : &it->second.first;
  }
};

using Names = std::initializer_list<std::string_view>;

// Names of ZLayer's spec that zlayer does not implement -> why, for a precise refusal.
using Unsupported = std::initializer_list<std::pair<std::string_view, std::string_view>>;
constexpr std::string_view kNotSupported = "is not supported by zlayer";

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  std::string_view text = n.Scalar();
  if (text.size() > 60) return fmt::format("\"{}...\"", text.substr(0, 57));
  return fmt::format("\"{}\"", text);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string one_of(const std::vector<std::string_view>& names) {
  std::string out;
  size_t i = 0;
  for (auto n : names) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += n;
    ++i;
  }
  return out;
}

// "/data/../x/" -> "/x"; relative -> empty.
std::string normal_path(std::string_view p) {
  if (p.empty() || p[0] != '/') return "";
  std::string out = std::filesystem::path(p).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)), map_(file_) {}

  const SourceMap& source_map() const { return map_; }

  Value root(const YAML::Node& node) {
    auto m = node.Mark();  // an empty document has none
    return Value{node, "", std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
  }

  template <class... Args>
  tl::unexpected<Error> fail(const Value& v, fmt::format_string<Args...> f, Args&&... args) {
    std::string msg = fmt::format(f, std::forward<Args>(args)...);
    if (v.path.empty()) return invalid_argument("{}:{}:{}: {}", file_, v.line, v.column, msg);
    return invalid_argument("{}:{}:{}: {}: {}", file_, v.line, v.column, v.path, msg);
  }

  // The entries of a mapping, in order; keys must be distinct scalars.
  Result<std::vector<std::pair<Value, Value>>> entries(const Value& v,
                                                       std::string_view expected = "a mapping") {
    if (v.null() || !v.node.IsMap()) return fail(v, "expected {}, got {}", expected, describe(v.node));
    std::vector<std::pair<Value, Value>> out;
    std::set<std::string> seen;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      auto km = it->first.Mark();
      Value key{it->first, v.path, km.line + 1, km.column + 1};
      if (!it->first.IsScalar()) return fail(key, "expected a name as key, got {}", describe(it->first));
      const std::string& name = it->first.Scalar();
      if (name == "<<") return fail(key, "YAML merge keys (<<) are not supported");
      if (!seen.insert(name).second) return fail(key, "duplicate field \"{}\"", name);
      out.emplace_back(key, child(v, name, it->second, key));
    }
    return out;
  }

  // A mapping of known fields: an unknown one is refused with a suggestion; one of ZLayer's spec
  // that zlayer lacks, with the reason.
  Result<Fields> fields(const Value& v, Names known, Unsupported unsupported = {}) {
    ZL_TRY_ASSIGN(auto list, entries(v));
    Fields out{v, {}, {}};
    for (auto& [key, value] : list) {
      const std::string& name = key.node.Scalar();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        for (const auto& [n, why] : unsupported)
          if (n == name) return fail(key, "field \"{}\" {}", name, why);
        std::string_view best;
        size_t best_d = SIZE_MAX;
        for (auto k : known) {
          size_t d = edit_distance(name, k);
          if (d < best_d) {
            best_d = d;
            best = k;
          }
        }
        if (best_d <= std::max<size_t>(1, name.size() / 3))
          return fail(key, "unknown field \"{}\" (did you mean \"{}\"?)", name, best);
        if (known.size() <= 8)
          return fail(key, "unknown field \"{}\" (expected {})", name, one_of({known.begin(), known.end()}));
        return fail(key, "unknown field \"{}\"", name);
      }
      out.order.push_back(name);
      out.entries.emplace(name, std::make_pair(key, value));
    }
    return out;
  }

  // A field that must be there and not empty.
  Result<Value> require(const Fields& f, std::string_view name, std::string_view expected) {
    if (auto v = f.get(name)) return *v;
    auto it = f.entries.find(name);
    if (it != f.entries.end()) return fail(it->second.second, "expected {}, got nothing", expected);
    return fail(f.self, "missing field \"{}\" ({})", name, expected);
  }

  // Fields that only some variants take (scale modes, check types, storage types).
  Status only(const Fields& f, const std::vector<std::string_view>& allowed, std::string_view what) {
    for (const auto& name : f.order) {
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      std::vector<std::string_view> takes(allowed.begin() + 1, allowed.end());  // allowed[0] is the selector
      if (takes.empty()) return fail(*f.key(name), "\"{}\" does not apply to {}", name, what);
      return fail(*f.key(name), "\"{}\" does not apply to {} (it takes {})", name, what, one_of(takes));
    }
    return {};
  }

  Result<std::vector<Value>> items(const Value& v, std::string_view expected = "a list") {
    if (v.null() || !v.node.IsSequence()) return fail(v, "expected {}, got {}", expected, describe(v.node));
    std::vector<Value> out;
    size_t i = 0;
    for (const auto& n : v.node) {
      auto m = n.Mark();
      Value item{n, fmt::format("{}[{}]", v.path, i++), m.line + 1, m.column + 1};
      map_.add(item.path, item.line, item.column);
      out.push_back(item);
    }
    return out;
  }

  // --- scalars ---

  Result<std::string> string(const Value& v, std::string_view expected = "a string") {
    if (!v.scalar()) return fail(v, "expected {}, got {}", expected, describe(v.node));
    return v.node.Scalar();
  }

  Result<int64_t> integer(const Value& v, int64_t min, int64_t max, std::string_view expected) {
    if (!v.scalar()) return fail(v, "expected {}, got {}", expected, describe(v.node));
    const std::string& s = v.node.Scalar();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < min || n > max)
      return fail(v, "expected {}, got {}", expected, describe(v.node));
    return n;
  }

  Result<uint16_t> port(const Value& v) {
    ZL_TRY_ASSIGN(auto n, integer(v, 1, 65535, "a port number (1-65535)"));
    return static_cast<uint16_t>(n);
  }

  Result<bool> boolean(const Value& v) {
    if (v.scalar()) {
      const std::string& s = v.node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    return fail(v, "expected true or false, got {}", describe(v.node));
  }

  Result<double> number(const Value& v, std::string_view expected) {
    if (!v.scalar()) return fail(v, "expected {}, got {}", expected, describe(v.node));
    const std::string& s = v.node.Scalar();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d))
      return fail(v, "expected {}, got {}", expected, describe(v.node));
    return d;
  }

  Result<Duration> duration(const Value& v, bool allow_zero = true) {
    if (!v.scalar())
      return fail(v, "expected a duration like \"30s\" or \"1m30s\", got {}", describe(v.node));
    auto d = parse_duration(v.node.Scalar());
    if (!d) return fail(v, "{}", d.error().message);
    if (!allow_zero && d->count() == 0)
      return fail(v, "expected a duration above zero, got \"{}\"", v.node.Scalar());
    return *d;
  }

  Result<int64_t> size(const Value& v) {
    if (!v.scalar()) return fail(v, "expected a size like \"512Mi\" or \"1Gi\", got {}", describe(v.node));
    auto n = parse_memory_size(v.node.Scalar());
    if (!n) return fail(v, "{}", n.error().message);
    if (*n == 0) return fail(v, "expected a size above zero, got \"{}\"", v.node.Scalar());
    return *n;
  }

  template <class E>
  Result<E> choice(const Value& v, std::initializer_list<std::pair<std::string_view, E>> options) {
    if (v.scalar()) {
      for (const auto& [name, e] : options)
        if (v.node.Scalar() == name) return e;
    }
    std::vector<std::string_view> names;
    for (const auto& o : options) names.push_back(o.first);
    return fail(v, "expected {}, got {}", one_of(names), describe(v.node));
  }

  Result<std::string> absolute_path(const Value& v) {
    ZL_TRY_ASSIGN(auto s, string(v, "an absolute path"));
    std::string p = normal_path(s);
    if (p.empty()) return fail(v, "expected an absolute path, got \"{}\"", s);
    return p;
  }

  Result<std::vector<std::string>> strings(const Value& v) {
    ZL_TRY_ASSIGN(auto list, items(v, "a list of strings"));
    std::vector<std::string> out;
    for (const auto& item : list) {
      ZL_TRY_ASSIGN(auto s, string(item));
      out.push_back(std::move(s));
    }
    return out;
  }

  // A command: a list (argv) or a string (run by /bin/sh -c).
  Result<std::vector<std::string>> command(const Value& v) {
    if (v.scalar()) {
      if (v.node.Scalar().empty()) return fail(v, "expected a command, got \"\"");
      return std::vector<std::string>{"/bin/sh", "-c", v.node.Scalar()};
    }
    if (v.null() || !v.node.IsSequence())
      return fail(v, "expected a command (a string for /bin/sh -c, or a list), got {}", describe(v.node));
    ZL_TRY_ASSIGN(auto argv, strings(v));
    if (argv.empty()) return fail(v, "expected a command, got an empty list");
    return argv;
  }

  // A mapping of names to scalar values.
  struct Entry {
    Value key, value;
    std::string text;
  };
  Result<std::vector<Entry>> string_map(const Value& v) {
    ZL_TRY_ASSIGN(auto list, entries(v));
    std::vector<Entry> out;
    for (auto& [key, value] : list) {
      if (!value.scalar())
        return fail(value, "expected a string value{}, got {}",
                    value.null() ? " (\"\" for an empty one)" : "", describe(value.node));
      out.push_back(Entry{key, value, value.node.Scalar()});
    }
    return out;
  }

 private:
  Value child(const Value& parent, const std::string& name, const YAML::Node& node, const Value& key) {
    Value v{node, parent.path.empty() ? name : parent.path + "." + name, key.line, key.column};
    if (node.IsDefined() && !node.IsNull()) {
      auto m = node.Mark();
      v.line = m.line + 1;
      v.column = m.column + 1;
    }
    map_.add(v.path, v.line, v.column);
    return v;
  }

  std::string file_;
  SourceMap map_;
};

// target = *r, or r's error.
template <class T, class U>
Status store(T& target, Result<U>&& r) {
  if (!r) return tl::unexpected(std::move(r).error());
  target = std::move(*r);
  return {};
}

// Reads a service's fields into a ServiceSpec in a fixed order: health after endpoints, as it
// takes its default and its ports from them.
class ServiceReader {
 public:
  ServiceReader(Reader& r, ServiceSpec& s) : r_(r), s_(s) {}

  Status read(const Value& v) {
    // clang-format off
    ZL_TRY_ASSIGN(auto f, r_.fields(v,
        {"rtype", "schedule", "image", "resources", "env", "command", "endpoints", "scale", "depends", "health",
         "restart_policy", "storage", "capabilities", "cap_drop", "privileged", "read_only_root_fs", "hostname",
         "labels", "user", "stop_signal", "stop_grace_period", "sysctls", "ulimits", "devices", "isolation",
         "lifecycle"},
        {{"cap_add", "is spelled \"capabilities\" in a zlayer spec"},
         {"port_mappings", "is not supported by zlayer (publish ports through endpoints)"},
         {"expose", "is not supported by zlayer (use endpoints)"},
         {"network", kNotSupported}, {"init", kNotSupported}, {"errors", kNotSupported},
         {"node_mode", kNotSupported}, {"node_selector", kNotSupported}, {"service_type", kNotSupported},
         {"wasm", kNotSupported}, {"wasm_http", kNotSupported}, {"replica_groups", kNotSupported},
         {"affinity", kNotSupported}, {"platform", kNotSupported}, {"logs", kNotSupported},
         {"dns", kNotSupported}, {"extra_hosts", kNotSupported}, {"security_opt", kNotSupported},
         {"pid_mode", kNotSupported}, {"ipc_mode", kNotSupported}, {"network_mode", kNotSupported},
         {"extra_groups", kNotSupported}, {"init_container", kNotSupported}, {"tty", kNotSupported},
         {"stdin_open", kNotSupported}, {"userns_mode", kNotSupported}, {"cgroup_parent", kNotSupported},
         {"overlay", kNotSupported}, {"localhost_reachability", kNotSupported}}));
    // clang-format on

    if (auto v = f.get("rtype"))
      ZL_TRY(store(s_.rtype, r_.choice<ResourceType>(*v, {{"service", ResourceType::service},
                                                          {"job", ResourceType::job},
                                                          {"cron", ResourceType::cron}})));
    if (auto v = f.get("schedule")) {
      ZL_TRY_ASSIGN(auto text, r_.string(*v, "a cron schedule"));
      auto cron = CronSchedule::parse(text);
      if (!cron) return r_.fail(*v, "{}", cron.error().message);
      s_.schedule = std::move(*cron);
    }
    ZL_TRY(image(f));
    if (auto v = f.get("resources")) ZL_TRY(resources(*v));
    if (auto v = f.get("env")) ZL_TRY(env(*v));
    if (auto v = f.get("command")) ZL_TRY(command(*v));
    if (auto v = f.get("endpoints")) ZL_TRY(endpoints(*v));
    if (auto v = f.get("scale")) ZL_TRY(scale(*v));
    if (auto v = f.get("depends")) ZL_TRY(depends(*v));
    ZL_TRY(health(f));
    if (auto v = f.get("restart_policy")) ZL_TRY(restart_policy(*v));
    if (auto v = f.get("storage")) ZL_TRY(storage(*v));
    if (auto v = f.get("capabilities")) ZL_TRY(store(s_.capabilities, capabilities(*v)));
    if (auto v = f.get("cap_drop")) ZL_TRY(store(s_.cap_drop, capabilities(*v)));
    if (auto v = f.get("privileged")) ZL_TRY(store(s_.privileged, r_.boolean(*v)));
    if (auto v = f.get("read_only_root_fs")) ZL_TRY(store(s_.read_only_root_fs, r_.boolean(*v)));
    if (auto v = f.get("hostname")) {
      ZL_TRY_ASSIGN(auto h, r_.string(*v, "a hostname"));
      if (!is_hostname(h))
        return r_.fail(*v, "expected a hostname (letters, digits, \"-\" and \".\", at most 64), got \"{}\"",
                       h);
      s_.hostname = h;
    }
    if (auto v = f.get("labels")) ZL_TRY(labels(*v));
    if (auto v = f.get("user")) ZL_TRY(user(*v));
    if (auto v = f.get("stop_signal")) {
      ZL_TRY_ASSIGN(auto text, r_.string(*v, "a signal"));
      auto sig = parse_signal(text);
      if (!sig) return r_.fail(*v, "{}", sig.error().message);
      std::string name = signal_name(*sig);
      s_.stop_signal = name.empty() ? std::to_string(*sig) : name;
    }
    if (auto v = f.get("stop_grace_period")) ZL_TRY(store(s_.stop_grace_period, r_.duration(*v)));
    if (auto v = f.get("sysctls")) ZL_TRY(sysctls(*v));
    if (auto v = f.get("ulimits")) ZL_TRY(ulimits(*v));
    if (auto v = f.get("devices")) ZL_TRY(devices(*v));
    if (auto v = f.get("isolation"))
      ZL_TRY(store(s_.isolation,
                   r_.choice<Isolation>(*v, {{"process", Isolation::process}, {"vm", Isolation::vm}})));
    if (auto v = f.get("lifecycle")) ZL_TRY(lifecycle(*v));
    return {};
  }

 private:
  Status image(const Fields& service) {
    ZL_TRY_ASSIGN(auto v, r_.require(service, "image", "a mapping with the image's name"));
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"name", "pull_policy"}));
    ZL_TRY_ASSIGN(auto name_v, r_.require(f, "name", "an image reference like \"nginx:1.25\""));
    ZL_TRY(store(s_.image.name, r_.string(name_v, "an image reference")));
    if (auto ref = Reference::parse(s_.image.name); !ref) return r_.fail(name_v, "{}", ref.error().message);
    if (auto p = f.get("pull_policy"))
      ZL_TRY(store(s_.image.pull_policy,
                   r_.choice<PullPolicy>(*p, {{"always", PullPolicy::always},
                                              {"if_not_present", PullPolicy::if_not_present},
                                              {"never", PullPolicy::never}})));
    return {};
  }

  Status resources(const Value& v) {
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"cpu", "memory", "pids_limit"},
                                    {{"gpu", kNotSupported},
                                     {"cpuset", kNotSupported},
                                     {"cpu_shares", kNotSupported},
                                     {"memory_swap", kNotSupported},
                                     {"memory_reservation", kNotSupported},
                                     {"memory_swappiness", kNotSupported},
                                     {"oom_score_adj", kNotSupported},
                                     {"oom_kill_disable", kNotSupported},
                                     {"blkio_weight", kNotSupported}}));
    if (auto c = f.get("cpu")) {
      ZL_TRY_ASSIGN(double cpu, r_.number(*c, "a positive number of cores"));
      if (cpu <= 0) return r_.fail(*c, "expected a positive number of cores, got {}", describe(c->node));
      s_.resources.cpu = cpu;
    }
    if (auto m = f.get("memory")) ZL_TRY(store(s_.resources.memory, r_.size(*m)));
    if (auto p = f.get("pids_limit"))
      ZL_TRY(store(s_.resources.pids_limit, r_.integer(*p, 1, INT64_MAX, "a positive integer")));
    return {};
  }

  Status env(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.string_map(v));
    for (auto& [key, value, text] : list) {
      const std::string& name = key.node.Scalar();
      if (name.empty() || name.find('=') != std::string::npos ||
          std::any_of(name.begin(), name.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
        return r_.fail(key, "invalid environment variable name \"{}\"", name);
      EnvValue env;
      if (text.starts_with("$E:")) {
        std::string var = text.substr(3);
        if (!is_env_name(var))
          return r_.fail(value, "expected $E: and a variable name ([A-Za-z_][A-Za-z0-9_]*), got \"{}\"",
                         text);
        env.host_var = var;
      } else if (text.starts_with("$S:")) {
        return r_.fail(
            value,
            "secret references (\"{}\") are not supported by zlayer; $E:NAME takes a value from zlayer's "
            "environment",
            text);
      } else {
        env.value = text;
      }
      s_.env[name] = std::move(env);
    }
    return {};
  }

  Status command(const Value& v) {
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"entrypoint", "args", "workdir"}));
    if (auto e = f.get("entrypoint")) ZL_TRY(store(s_.command.entrypoint, r_.strings(*e)));
    if (auto a = f.get("args")) ZL_TRY(store(s_.command.args, r_.strings(*a)));
    if (auto w = f.get("workdir")) ZL_TRY(store(s_.command.workdir, r_.absolute_path(*w)));
    return {};
  }

  Status endpoints(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.items(v, "a list of endpoints"));
    for (const auto& item : list) {
      ZL_TRY_ASSIGN(auto f, r_.fields(item, {"name", "protocol", "port", "target_port", "path", "expose"},
                                      {{"stream", kNotSupported}, {"tunnel", kNotSupported}}));
      EndpointSpec e;
      ZL_TRY_ASSIGN(auto name_v, r_.require(f, "name", "an endpoint name"));
      ZL_TRY(store(e.name, r_.string(name_v, "an endpoint name")));
      if (!is_dns_label(e.name))
        return r_.fail(name_v,
                       "expected an endpoint name of 1-63 lowercase letters, digits and \"-\", got \"{}\"",
                       e.name);
      ZL_TRY_ASSIGN(auto proto_v, r_.require(f, "protocol", "tcp, udp, http, https or websocket"));
      ZL_TRY(store(e.protocol, r_.choice<Protocol>(proto_v, {{"tcp", Protocol::tcp},
                                                             {"udp", Protocol::udp},
                                                             {"http", Protocol::http},
                                                             {"https", Protocol::https},
                                                             {"websocket", Protocol::websocket}})));
      ZL_TRY_ASSIGN(auto port_v, r_.require(f, "port", "a port number (1-65535)"));
      ZL_TRY(store(e.port, r_.port(port_v)));
      e.target_port = e.port;
      if (auto t = f.get("target_port")) ZL_TRY(store(e.target_port, r_.port(*t)));
      if (auto p = f.get("path")) {
        if (e.protocol == Protocol::tcp || e.protocol == Protocol::udp)
          return r_.fail(*p, "a path only applies to http, https and websocket endpoints, not {}",
                         to_string(e.protocol));
        ZL_TRY_ASSIGN(auto path, r_.string(*p, "a URL path"));
        if (!path.starts_with('/'))
          return r_.fail(*p, "expected a URL path starting with \"/\", got \"{}\"", path);
        e.path = path;
      }
      if (auto x = f.get("expose"))
        ZL_TRY(store(e.expose,
                     r_.choice<Expose>(*x, {{"public", Expose::public_}, {"internal", Expose::internal}})));
      s_.endpoints.push_back(std::move(e));
    }
    return {};
  }

  Status scale(const Value& v) {
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"mode", "replicas", "min", "max", "cooldown", "targets"}));
    ZL_TRY_ASSIGN(auto mode_v, r_.require(f, "mode", "adaptive, fixed or manual"));
    ScaleSpec& sc = s_.scale;
    ZL_TRY(store(sc.mode, r_.choice<ScaleMode>(mode_v, {{"adaptive", ScaleMode::adaptive},
                                                        {"fixed", ScaleMode::fixed},
                                                        {"manual", ScaleMode::manual}})));
    if (sc.mode == ScaleMode::fixed) ZL_TRY(r_.only(f, {"mode", "replicas"}, "scale mode fixed"));
    if (sc.mode == ScaleMode::adaptive)
      ZL_TRY(r_.only(f, {"mode", "min", "max", "cooldown", "targets"}, "scale mode adaptive"));
    if (sc.mode == ScaleMode::manual) ZL_TRY(r_.only(f, {"mode"}, "scale mode manual"));
    constexpr int64_t kMaxReplicas = UINT32_MAX;
    if (sc.mode == ScaleMode::fixed) {
      ZL_TRY_ASSIGN(auto n_v, r_.require(f, "replicas", "a non-negative integer"));
      ZL_TRY_ASSIGN(auto n, r_.integer(n_v, 0, kMaxReplicas, "a non-negative integer"));
      sc.replicas = static_cast<uint32_t>(n);
    } else if (sc.mode == ScaleMode::adaptive) {
      ZL_TRY_ASSIGN(auto min_v, r_.require(f, "min", "a non-negative integer"));
      ZL_TRY_ASSIGN(auto min, r_.integer(min_v, 0, kMaxReplicas, "a non-negative integer"));
      ZL_TRY_ASSIGN(auto max_v, r_.require(f, "max", "a positive integer"));
      ZL_TRY_ASSIGN(auto max, r_.integer(max_v, 1, kMaxReplicas, "a positive integer"));
      sc.min = static_cast<uint32_t>(min);
      sc.max = static_cast<uint32_t>(max);
      if (auto c = f.get("cooldown")) ZL_TRY(store(sc.cooldown, r_.duration(*c)));
      if (auto t = f.get("targets")) {
        ZL_TRY_ASSIGN(auto tf, r_.fields(*t, {"cpu", "memory", "rps"}));
        if (auto c = tf.get("cpu"))
          ZL_TRY(store(sc.targets.cpu, r_.integer(*c, 1, 100, "a percentage (1-100)")));
        if (auto m = tf.get("memory"))
          ZL_TRY(store(sc.targets.memory, r_.integer(*m, 1, 100, "a percentage (1-100)")));
        if (auto q = tf.get("rps"))
          ZL_TRY(store(sc.targets.rps,
                       r_.integer(*q, 1, INT64_MAX, "a positive number of requests per second")));
      }
    }
    return {};
  }

  Status depends(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.items(v, "a list of dependencies"));
    for (const auto& item : list) {
      ZL_TRY_ASSIGN(auto f, r_.fields(item, {"service", "condition", "timeout", "on_timeout"}));
      DependsSpec d;
      ZL_TRY_ASSIGN(auto svc_v, r_.require(f, "service", "the name of another service"));
      ZL_TRY(store(d.service, r_.string(svc_v, "a service name")));
      if (auto c = f.get("condition"))
        ZL_TRY(
            store(d.condition, r_.choice<DependencyCondition>(*c, {{"started", DependencyCondition::started},
                                                                   {"healthy", DependencyCondition::healthy},
                                                                   {"ready", DependencyCondition::ready}})));
      if (auto t = f.get("timeout")) ZL_TRY(store(d.timeout, r_.duration(*t, false)));
      if (auto a = f.get("on_timeout"))
        ZL_TRY(store(d.on_timeout, r_.choice<TimeoutAction>(*a, {{"fail", TimeoutAction::fail},
                                                                 {"warn", TimeoutAction::warn},
                                                                 {"continue", TimeoutAction::continue_}})));
      s_.depends.push_back(std::move(d));
    }
    return {};
  }

  // The first endpoint whose target port speaks TCP (any protocol but udp).
  const EndpointSpec* tcp_endpoint() const {
    for (const auto& e : s_.endpoints)
      if (e.protocol != Protocol::udp) return &e;
    return nullptr;
  }
  const EndpointSpec* http_endpoint() const {
    for (const auto& e : s_.endpoints)
      if (e.protocol == Protocol::http || e.protocol == Protocol::https || e.protocol == Protocol::websocket)
        return &e;
    return nullptr;
  }

  // After endpoints: the default check, and the ports a check takes from them.
  Status health(const Fields& service) {
    auto v = service.get("health");
    if (!v) {
      const EndpointSpec* e = tcp_endpoint();
      if (s_.rtype == ResourceType::service && e) {
        s_.health = HealthSpec{};
        s_.health->check.port = e->target_port;
      }
      return {};
    }
    ZL_TRY_ASSIGN(auto f, r_.fields(*v, {"start_grace", "interval", "timeout", "retries", "check"}));
    HealthSpec h;
    if (auto d = f.get("start_grace")) ZL_TRY(store(h.start_grace, r_.duration(*d)));
    if (auto d = f.get("interval")) ZL_TRY(store(h.interval, r_.duration(*d, false)));
    if (auto d = f.get("timeout")) ZL_TRY(store(h.timeout, r_.duration(*d, false)));
    if (auto n = f.get("retries")) {
      ZL_TRY_ASSIGN(auto retries, r_.integer(*n, 0, UINT32_MAX, "a non-negative integer"));
      h.retries = static_cast<uint32_t>(retries);
    }
    ZL_TRY_ASSIGN(auto check_v, r_.require(f, "check", "a mapping with the check's type"));
    ZL_TRY_ASSIGN(auto cf, r_.fields(check_v, {"type", "port", "url", "expect_status", "command"}));
    ZL_TRY_ASSIGN(auto type_v, r_.require(cf, "type", "tcp, http or command"));
    HealthCheck& c = h.check;
    ZL_TRY(store(c.type, r_.choice<HealthCheckType>(type_v, {{"tcp", HealthCheckType::tcp},
                                                             {"http", HealthCheckType::http},
                                                             {"command", HealthCheckType::command}})));
    ZL_TRY(r_.only(cf,
                   c.type == HealthCheckType::tcp ? std::vector<std::string_view>{"type", "port"}
                   : c.type == HealthCheckType::http
                       ? std::vector<std::string_view>{"type", "url", "expect_status"}
                       : std::vector<std::string_view>{"type", "command"},
                   fmt::format("a {} check", to_string(c.type))));

    switch (c.type) {
      case HealthCheckType::tcp:
        if (auto p = cf.get("port")) {
          ZL_TRY_ASSIGN(auto port, r_.integer(*p, 0, 65535, "a port number (1-65535)"));
          c.port = static_cast<uint16_t>(port);  // 0: the reference's "first endpoint"
        }
        if (c.port == 0) {
          const EndpointSpec* e = tcp_endpoint();
          if (!e)
            return r_.fail(check_v,
                           "a tcp check needs a port: give check.port, or an endpoint that is not udp");
          c.port = e->target_port;
        }
        break;
      case HealthCheckType::http: {
        ZL_TRY_ASSIGN(auto url_v,
                      r_.require(cf, "url", "a URL like \"http://localhost:8080/healthz\" or a path"));
        ZL_TRY(store(c.url, r_.string(url_v, "a URL")));
        if (c.url.starts_with('/')) {
          const EndpointSpec* e = http_endpoint();
          if (!e)
            return r_.fail(
                url_v,
                "the path \"{}\" needs an http, https or websocket endpoint to take the port from; give "
                "a full URL like \"http://localhost:8080{}\"",
                c.url, c.url);
          c.port = e->target_port;
        } else {
          ZL_TRY(check_url(url_v, c.url));
        }
        if (auto s = cf.get("expect_status")) {
          ZL_TRY_ASSIGN(auto status, r_.integer(*s, 100, 599, "an HTTP status (100-599)"));
          c.expect_status = static_cast<int>(status);
        }
        break;
      }
      case HealthCheckType::command: {
        ZL_TRY_ASSIGN(auto cmd_v, r_.require(cf, "command", "a command"));
        ZL_TRY(store(c.command, r_.command(cmd_v)));
        break;
      }
    }
    s_.health = std::move(h);
    return {};
  }

  // "http://host[:port][/path]" or https.
  Status check_url(const Value& v, const std::string& url) {
    std::string_view rest = url;
    if (rest.starts_with("http://"))
      rest.remove_prefix(7);
    else if (rest.starts_with("https://"))
      rest.remove_prefix(8);
    else
      return r_.fail(v, "expected a URL starting with http:// or https://, or a path, got \"{}\"", url);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    std::string_view host = authority;
    if (auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.back() != ']') {
      host = authority.substr(0, colon);
      std::string_view p = authority.substr(colon + 1);
      int port = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      if (p.empty() || ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535)
        return r_.fail(v, "invalid port \"{}\" in URL \"{}\"", p, url);
    }
    if (host.empty()) return r_.fail(v, "the URL \"{}\" has no host", url);
    return {};
  }

  Status restart_policy(const Value& v) {
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"kind", "max_attempts", "delay"}));
    RestartPolicy p;
    ZL_TRY_ASSIGN(auto kind_v, r_.require(f, "kind", "no, on_failure, always or unless_stopped"));
    ZL_TRY(store(p.kind, r_.choice<RestartKind>(kind_v, {{"no", RestartKind::no},
                                                         {"on_failure", RestartKind::on_failure},
                                                         {"always", RestartKind::always},
                                                         {"unless_stopped", RestartKind::unless_stopped}})));
    if (auto m = f.get("max_attempts")) {
      if (p.kind != RestartKind::on_failure)
        return r_.fail(*m, "max_attempts only applies to kind on_failure, not {}", to_string(p.kind));
      ZL_TRY_ASSIGN(auto n, r_.integer(*m, 1, UINT32_MAX, "a positive integer"));
      p.max_attempts = static_cast<uint32_t>(n);
    }
    if (auto d = f.get("delay")) ZL_TRY(store(p.delay, r_.duration(*d)));
    s_.restart_policy = p;
    return {};
  }

  Status storage(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.items(v, "a list of mounts"));
    for (const auto& item : list) {
      if (item.null() || !item.node.IsMap())
        return r_.fail(item, "expected a mapping with type bind, named or tmpfs, got {}",
                       describe(item.node));
      ZL_TRY_ASSIGN(auto f, r_.fields(item, {"type", "source", "name", "target", "readonly", "size", "mode",
                                             "tier", "bucket", "prefix", "endpoint", "credentials"}));
      StorageSpec st;
      ZL_TRY_ASSIGN(auto type_v, r_.require(f, "type", "bind, named or tmpfs"));
      if (type_v.scalar() && (type_v.node.Scalar() == "anonymous" || type_v.node.Scalar() == "s3"))
        return r_.fail(type_v, "storage type \"{}\" is not supported by zlayer (use bind, named or tmpfs)",
                       type_v.node.Scalar());
      ZL_TRY(store(st.type, r_.choice<StorageType>(type_v, {{"bind", StorageType::bind},
                                                            {"named", StorageType::named},
                                                            {"tmpfs", StorageType::tmpfs}})));
      if (const Value* tier = f.key("tier")) return r_.fail(*tier, "field \"tier\" {}", kNotSupported);
      std::string what = fmt::format("{} storage", to_string(st.type));
      if (st.type == StorageType::bind) ZL_TRY(r_.only(f, {"type", "source", "target", "readonly"}, what));
      if (st.type == StorageType::named) ZL_TRY(r_.only(f, {"type", "name", "target", "readonly"}, what));
      if (st.type == StorageType::tmpfs) ZL_TRY(r_.only(f, {"type", "target", "size", "mode"}, what));
      ZL_TRY_ASSIGN(auto target_v, r_.require(f, "target", "an absolute path in the container"));
      ZL_TRY(store(st.target, r_.absolute_path(target_v)));
      if (st.target == "/") return r_.fail(target_v, "cannot mount over the container's root \"/\"");
      if (st.type == StorageType::bind) {
        ZL_TRY_ASSIGN(auto src_v, r_.require(f, "source", "an absolute host path"));
        ZL_TRY(store(st.source, r_.absolute_path(src_v)));
      } else if (st.type == StorageType::named) {
        ZL_TRY_ASSIGN(auto name_v, r_.require(f, "name", "a volume name"));
        ZL_TRY(store(st.source, r_.string(name_v, "a volume name")));
        if (!is_dns_label(st.source, 2))
          return r_.fail(
              name_v,
              "expected a volume name of 2-63 lowercase letters, digits and \"-\", starting and ending "
              "with a letter or digit, got \"{}\"",
              st.source);
      }
      if (st.type != StorageType::tmpfs) {
        if (auto ro = f.get("readonly")) ZL_TRY(store(st.readonly, r_.boolean(*ro)));
      } else {
        if (auto sz = f.get("size")) ZL_TRY(store(st.size, r_.size(*sz)));
        if (auto m = f.get("mode")) {
          ZL_TRY_ASSIGN(auto text, r_.string(*m, "octal permission bits like 1777"));
          std::string_view digits = text;
          if (digits.starts_with("0o")) digits.remove_prefix(2);
          uint32_t mode = 0;
          auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), mode, 8);
          if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || mode > 07777)
            return r_.fail(*m, "expected octal permission bits like 1777 or 0755, got \"{}\"", text);
          st.mode = mode;
        }
      }
      s_.storage.push_back(std::move(st));
    }
    return {};
  }

  Result<std::vector<std::string>> capabilities(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.items(v, "a list of capabilities"));
    std::vector<std::string> out;
    for (const auto& item : list) {
      ZL_TRY_ASSIGN(auto name, r_.string(item, "a capability name"));
      auto cap = normalize_capability(name);
      if (!cap) return r_.fail(item, "{}", cap.error().message);
      out.push_back(std::move(*cap));
    }
    return out;
  }

  Status labels(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.string_map(v));
    for (auto& [key, value, text] : list) {
      const std::string& name = key.node.Scalar();
      if (name.empty()) return r_.fail(key, "a label needs a name");
      if (name.starts_with("zlayer."))
        return r_.fail(key, "label \"{}\": names starting with \"zlayer.\" are kept for zlayer's own labels",
                       name);
      s_.labels[name] = text;
    }
    return {};
  }

  Status user(const Value& v) {
    ZL_TRY_ASSIGN(auto u, r_.string(v, "a user"));
    auto colon = u.find(':');
    bool ok = !u.empty() &&
              u.find(':', colon == std::string::npos ? u.size() : colon + 1) == std::string::npos &&
              colon != 0 && colon + 1 != u.size() &&
              std::none_of(u.begin(), u.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
    if (!ok) return r_.fail(v, "expected a user like \"app\", \"1000\" or \"1000:1000\", got \"{}\"", u);
    s_.user = u;
    return {};
  }

  Status sysctls(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.string_map(v));
    for (auto& [key, value, text] : list) {
      const std::string& name = key.node.Scalar();
      if (auto ok = validate_sysctl(name, false); !ok) return r_.fail(key, "{}", ok.error().message);
      s_.sysctls[name] = text;
    }
    return {};
  }

  Result<uint64_t> limit(const Value& v) {
    constexpr std::string_view expected = "a non-negative integer, -1 or \"unlimited\"";
    if (v.scalar() && (v.node.Scalar() == "unlimited" || v.node.Scalar() == "-1"))
      return UlimitSpec::kUnlimited;
    ZL_TRY_ASSIGN(auto n, r_.integer(v, 0, INT64_MAX, expected));
    return static_cast<uint64_t>(n);
  }

  Status ulimits(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.entries(v));
    for (auto& [key, value] : list) {
      std::string name = key.node.Scalar();
      if (!rlimit_resource(name)) {
        std::string known;
        for (const auto& n : rlimit_names()) known += (known.empty() ? "" : ", ") + n;
        return r_.fail(key, "unknown ulimit \"{}\" (known: {})", name, known);
      }
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (name.starts_with("rlimit_")) name.erase(0, 7);
      UlimitSpec u;
      if (value.scalar()) {
        ZL_TRY(store(u.soft, limit(value)));
        u.hard = u.soft;
      } else {
        ZL_TRY_ASSIGN(auto f, r_.fields(value, {"soft", "hard"}));
        auto soft = f.get("soft"), hard = f.get("hard");
        if (!soft && !hard) return r_.fail(value, "expected soft and/or hard");
        if (soft) ZL_TRY(store(u.soft, limit(*soft)));
        if (hard) ZL_TRY(store(u.hard, limit(*hard)));
        if (!soft) u.soft = u.hard;
        if (!hard) u.hard = u.soft;
        if (u.soft > u.hard) return r_.fail(value, "the soft limit is above the hard limit");
      }
      if (!s_.ulimits.emplace(name, u).second) return r_.fail(key, "ulimit \"{}\" is given twice", name);
    }
    return {};
  }

  Status devices(const Value& v) {
    ZL_TRY_ASSIGN(auto list, r_.items(v, "a list of devices"));
    for (const auto& item : list) {
      ZL_TRY_ASSIGN(auto f, r_.fields(item, {"path", "read", "write", "mknod"}));
      DeviceSpec d;
      ZL_TRY_ASSIGN(auto path_v, r_.require(f, "path", "a host device path like /dev/fuse"));
      ZL_TRY(store(d.path, r_.absolute_path(path_v)));
      if (auto b = f.get("read")) ZL_TRY(store(d.read, r_.boolean(*b)));
      if (auto b = f.get("write")) ZL_TRY(store(d.write, r_.boolean(*b)));
      if (auto b = f.get("mknod")) ZL_TRY(store(d.mknod, r_.boolean(*b)));
      if (!d.read && !d.write && !d.mknod) return r_.fail(item, "a device needs one of read, write or mknod");
      s_.devices.push_back(std::move(d));
    }
    return {};
  }

  Status lifecycle(const Value& v) {
    ZL_TRY_ASSIGN(auto f, r_.fields(v, {"post_start", "pre_stop"},
                                    {{"delete_on_exit",
                                      "is not supported by zlayer (replicas are kept by the "
                                      "daemon; jobs and cron runs are removed by it)"}}));
    for (auto [name, hook] :
         {std::pair{"post_start", &s_.lifecycle.post_start}, std::pair{"pre_stop", &s_.lifecycle.pre_stop}}) {
      auto h = f.get(name);
      if (!h) continue;
      ZL_TRY_ASSIGN(auto hf, r_.fields(*h, {"command"}));
      ZL_TRY_ASSIGN(auto cmd_v, r_.require(hf, "command", "a command"));
      LifecycleHook hk;
      ZL_TRY(store(hk.command, r_.command(cmd_v)));
      *hook = std::move(hk);
    }
    return {};
  }

  Reader& r_;
  ServiceSpec& s_;
};

Result<DeploymentSpec> read_deployment(Reader& r, const YAML::Node& root_node) {
  Value root = r.root(root_node);
  if (root.null())
    return r.fail(root, "the spec is empty; expected a mapping with version, deployment and services");
  ZL_TRY_ASSIGN(auto f, r.fields(root, {"version", "deployment", "services"},
                                 {{"tunnels", kNotSupported}, {"api", kNotSupported}}));
  DeploymentSpec d;
  ZL_TRY_ASSIGN(auto version_v, r.require(f, "version", "\"v1\""));
  ZL_TRY(store(d.version, r.string(version_v, "\"v1\"")));
  if (d.version != "v1")
    return r.fail(version_v, "expected \"v1\", got \"{}\" (only v1 specs exist)", d.version);

  ZL_TRY_ASSIGN(auto name_v, r.require(f, "deployment", "the deployment's name"));
  ZL_TRY(store(d.deployment, r.string(name_v, "a deployment name")));
  if (!is_dns_label(d.deployment, 3))
    return r.fail(
        name_v,
        "expected a deployment name of 3-63 lowercase letters, digits and \"-\", starting and ending with a "
        "letter or digit, got \"{}\"",
        d.deployment);

  if (auto services = f.get("services")) {
    ZL_TRY_ASSIGN(auto list, r.entries(*services, "a mapping of service names to services"));
    for (auto& [key, value] : list) {
      const std::string& name = key.node.Scalar();
      if (!is_dns_label(name))
        return r.fail(
            key,
            "invalid service name \"{}\": expected 1-63 lowercase letters, digits and \"-\", starting and "
            "ending with a letter or digit",
            name);
      ServiceSpec s;
      s.name = name;
      if (value.null() || !value.node.IsMap())
        return r.fail(value, "expected a mapping with the service's image and settings, got {}",
                      describe(value.node));
      ZL_TRY(ServiceReader(r, s).read(value));
      d.services.push_back(std::move(s));
    }
  }
  return d;
}

// The starts of the YAML documents in `text`, read with the event parser. Each must begin past
// the one before: YAML::LoadAll never returns on some malformed input (yaml-cpp 0.7 yields empty
// documents at the same place until memory runs out on a lone ","; found by fuzz/spec_fuzzer),
// so a start that does not move on is an error here.
Result<std::vector<YAML::Mark>> document_starts(const std::string& text, const std::string& file) {
  struct Starts : YAML::EventHandler {
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  } starts;
  std::istringstream in(text);
  YAML::Parser parser(in);
  while (parser.HandleNextDocument(starts)) {
    size_t n = starts.marks.size();
    if (n >= 2 && starts.marks[n - 1].pos <= starts.marks[n - 2].pos) {
      const YAML::Mark& m = starts.marks[n - 1];
      return invalid_argument("{}:{}:{}: invalid YAML: a document that cannot be read (a stray \",\"?)", file,
                              m.line + 1, m.column + 1);
    }
  }
  return starts.marks;
}

}  // namespace

Result<DeploymentSpec> parse_deployment(std::string_view yaml_text, std::string_view file_name) {
  std::string file(file_name);
  Reader r(file);
  auto read = [&]() -> Result<DeploymentSpec> {
    try {
      std::string text(yaml_text);
      ZL_TRY_ASSIGN(auto starts, document_starts(text, file));
      if (starts.size() > 1)
        return invalid_argument("{}:{}:{}: expected one YAML document, found {}", file, starts[1].line + 1,
                                starts[1].column + 1, starts.size());
      return read_deployment(r, YAML::Load(text));
    } catch (const YAML::Exception& e) {
      if (e.mark.is_null()) return invalid_argument("{}: invalid YAML: {}", file, e.msg);
      return invalid_argument("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
    } catch (const std::exception& e) {
      return invalid_argument("{}: invalid spec: {}", file, e.what());
    }
  };
  ZL_TRY_ASSIGN(auto spec, read());
  ZL_TRY(validate_deployment(spec, r.source_map()));
  spec.source = file;
  return spec;
}

Result<DeploymentSpec> load_deployment(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return tl::unexpected(std::move(text).error().wrap("read deployment spec"));
  return parse_deployment(*text, file.string());
}

}  // namespace zl::spec
