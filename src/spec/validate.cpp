// Cross-field rules of a deployment spec; messages point at the value that breaks the rule.
#include "spec/validate.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "spec/names.h"

namespace zl::spec {

std::string SourceMap::where(std::string_view path) const {
  std::string_view p = path;
  while (!p.empty()) {
    auto it = positions_.find(p);
    if (it != positions_.end()) {
      if (path.empty()) return fmt::format("{}:{}:{}", file_, it->second.line, it->second.column);
      return fmt::format("{}:{}:{}: {}", file_, it->second.line, it->second.column, path);
    }
    size_t cut = p.find_last_of(".[");
    p = cut == std::string_view::npos ? std::string_view() : p.substr(0, cut);
  }
  if (file_.empty()) return std::string(path);
  return fmt::format("{}: {}", file_, path);
}

namespace {

class Validator {
 public:
  Validator(const DeploymentSpec& d, const SourceMap& where) : d_(d), where_(where) {}

  Status run() {
    if (d_.version != "v1") return fail("version", "expected \"v1\", got \"{}\"", d_.version);
    if (!is_dns_label(d_.deployment, 3))
      return fail("deployment",
                  "expected a deployment name of 3-63 lowercase letters, digits and \"-\", got \"{}\"",
                  d_.deployment);
    std::set<std::string_view> names;
    for (const auto& s : d_.services) {
      std::string path = "services." + s.name;
      if (!is_dns_label(s.name)) return fail(path, "invalid service name \"{}\"", s.name);
      if (!names.insert(s.name).second) return fail(path, "service \"{}\" is defined twice", s.name);
    }
    for (const auto& s : d_.services) ZL_TRY(service(s));
    return cycles();
  }

 private:
  template <class... Args>
  tl::unexpected<Error> fail(const std::string& path, fmt::format_string<Args...> f, Args&&... args) {
    return invalid_argument("{}: {}", where_.where(path), fmt::format(f, std::forward<Args>(args)...));
  }

  Status service(const ServiceSpec& s) {
    const std::string p = "services." + s.name;

    if (s.rtype == ResourceType::cron && !s.schedule)
      return fail(p + ".rtype",
                  "a cron service needs a schedule (like \"0 0 3 * * * *\": daily at 03:00 UTC)");
    if (s.rtype != ResourceType::cron && s.schedule)
      return fail(p + ".schedule", "a schedule only applies to rtype cron, and this is a {}",
                  to_string(s.rtype));

    for (size_t j = 0; j < s.endpoints.size(); ++j) {
      const auto& e = s.endpoints[j];
      const char* transport = e.protocol == Protocol::udp ? "udp" : "tcp";
      for (size_t i = 0; i < j; ++i) {
        const auto& other = s.endpoints[i];
        if (other.name == e.name)
          return fail(fmt::format("{}.endpoints[{}].name", p, j),
                      "endpoint name \"{}\" is already used by endpoints[{}]", e.name, i);
        if (other.port == e.port && (other.protocol == Protocol::udp) == (e.protocol == Protocol::udp))
          return fail(fmt::format("{}.endpoints[{}].port", p, j),
                      "port {}/{} is already used by endpoint \"{}\"", e.port, transport, other.name);
      }
    }

    if (s.scale.mode == ScaleMode::adaptive && s.scale.min > s.scale.max)
      return fail(p + ".scale.min", "min ({}) is above max ({})", s.scale.min, s.scale.max);

    std::set<std::string_view> deps;
    for (size_t i = 0; i < s.depends.size(); ++i) {
      const std::string dp = fmt::format("{}.depends[{}].service", p, i);
      const std::string& target = s.depends[i].service;
      if (target == s.name) return fail(dp, "a service cannot depend on itself");
      if (!d_.find_service(target)) {
        std::string known;
        for (const auto& other : d_.services) known += (known.empty() ? "" : ", ") + other.name;
        return fail(dp, "\"{}\" is not a service of this deployment (services: {})", target, known);
      }
      if (!deps.insert(target).second) return fail(dp, "\"{}\" is listed twice", target);
    }

    if (s.health) {
      const HealthCheck& c = s.health->check;
      if (c.type == HealthCheckType::tcp && c.port == 0)
        return fail(p + ".health.check",
                    "a tcp check needs a port: give check.port, or an endpoint that is not udp");
      if (c.type == HealthCheckType::http && c.url.empty())
        return fail(p + ".health.check", "an http check needs a url");
      if (c.type == HealthCheckType::command && c.command.empty())
        return fail(p + ".health.check", "a command check needs a command");
    }

    if (s.restart_policy && s.restart_policy->max_attempts &&
        s.restart_policy->kind != RestartKind::on_failure)
      return fail(p + ".restart_policy.max_attempts", "max_attempts only applies to kind on_failure, not {}",
                  to_string(s.restart_policy->kind));

    for (size_t j = 0; j < s.storage.size(); ++j)
      for (size_t i = 0; i < j; ++i)
        if (s.storage[i].target == s.storage[j].target)
          return fail(fmt::format("{}.storage[{}].target", p, j), "\"{}\" is already mounted by storage[{}]",
                      s.storage[j].target, i);

    for (size_t j = 0; j < s.devices.size(); ++j)
      for (size_t i = 0; i < j; ++i)
        if (s.devices[i].path == s.devices[j].path)
          return fail(fmt::format("{}.devices[{}].path", p, j), "\"{}\" is already given by devices[{}]",
                      s.devices[j].path, i);
    return {};
  }

  // Depth-first over the dependency edges; a service met again on the current path closes a cycle.
  Status cycles() {
    enum class Mark { none, active, done };
    std::map<std::string_view, Mark> mark;
    std::vector<std::pair<const ServiceSpec*, size_t>> path;  // service, index of the edge followed

    std::function<Status(const ServiceSpec&)> visit = [&](const ServiceSpec& s) -> Status {
      mark[s.name] = Mark::active;
      for (size_t i = 0; i < s.depends.size(); ++i) {
        const ServiceSpec* next = d_.find_service(s.depends[i].service);
        if (!next) continue;
        path.emplace_back(&s, i);
        if (mark[next->name] == Mark::active) {
          auto start = std::find_if(path.begin(), path.end(), [&](const auto& e) { return e.first == next; });
          std::string cycle;
          for (auto it = start; it != path.end(); ++it) cycle += it->first->name + " -> ";
          cycle += next->name;
          return fail(fmt::format("services.{}.depends[{}].service", start->first->name, start->second),
                      "dependency cycle: {}", cycle);
        }
        if (mark[next->name] == Mark::none) ZL_TRY(visit(*next));
        path.pop_back();
      }
      mark[s.name] = Mark::done;
      return {};
    };
    for (const auto& s : d_.services)
      if (mark[s.name] == Mark::none) ZL_TRY(visit(s));
    return {};
  }

  const DeploymentSpec& d_;
  const SourceMap& where_;
};

}  // namespace

Status validate_deployment(const DeploymentSpec& deployment, const SourceMap& where) {
  return Validator(deployment, where).run();
}

}  // namespace zl::spec
