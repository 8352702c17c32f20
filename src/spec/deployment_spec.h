// A deployment as the user wrote it in a `*.zlayer.yml` (ZLayer's v1 spec): named services, each
// an image with how to run it (per container) and how the daemon keeps it running (scale,
// dependencies, health, restarts). Values here are parsed, defaulted and validated (spec/parse.h);
// the daemon turns a service into containers with agent/replica_spec.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/pull_policy.h"
#include "spec/cron.h"
#include "spec/duration.h"

namespace zl::spec {

enum class ResourceType { service, job, cron };
enum class Protocol { tcp, udp, http, https, websocket };
enum class Expose { internal, public_ };
enum class ScaleMode { adaptive, fixed, manual };
enum class DependencyCondition { started, healthy, ready };
enum class TimeoutAction { fail, warn, continue_ };
enum class HealthCheckType { tcp, http, command };
enum class RestartKind { no, on_failure, always, unless_stopped };
enum class Isolation { process, vm };
enum class StorageType { bind, named, tmpfs };

// The spellings used in the YAML ("on_failure", "public", "continue", ...).
std::string_view to_string(ResourceType v);
std::string_view to_string(Protocol v);
std::string_view to_string(Expose v);
std::string_view to_string(ScaleMode v);
std::string_view to_string(DependencyCondition v);
std::string_view to_string(TimeoutAction v);
std::string_view to_string(HealthCheckType v);
std::string_view to_string(RestartKind v);
std::string_view to_string(Isolation v);
std::string_view to_string(StorageType v);

struct ImageSpec {
  std::string name;                                     // as written; a valid image reference
  PullPolicy pull_policy = PullPolicy::if_not_present;  // always | if_not_present | never
  friend bool operator==(const ImageSpec&, const ImageSpec&) = default;
};

struct ResourcesSpec {
  std::optional<double> cpu;          // cores, > 0
  std::optional<int64_t> memory;      // bytes, > 0
  std::optional<int64_t> pids_limit;  // > 0
  friend bool operator==(const ResourcesSpec&, const ResourcesSpec&) = default;
};

// An env value: literal, or "$E:NAME" = the daemon's own variable NAME at deploy time, which
// resolve_env() fills in (the reference stays, so status output shows "$E:NAME", not its value).
struct EnvValue {
  std::string value;
  std::optional<std::string> host_var;  // set for "$E:NAME"
  bool resolved = false;                // host_var's value has been copied into `value`
  friend bool operator==(const EnvValue&, const EnvValue&) = default;
};

struct CommandSpec {
  std::optional<std::vector<std::string>> entrypoint;  // replaces the image's ENTRYPOINT
  std::optional<std::vector<std::string>> args;        // replaces the image's CMD
  std::optional<std::string> workdir;                  // absolute
  friend bool operator==(const CommandSpec&, const CommandSpec&) = default;
};

struct EndpointSpec {
  std::string name;
  Protocol protocol = Protocol::tcp;
  uint16_t port = 0;                // where the proxy listens, 1-65535
  uint16_t target_port = 0;         // where the container listens; defaults to `port`
  std::optional<std::string> path;  // URL prefix, http/https/websocket only
  Expose expose = Expose::internal;
  friend bool operator==(const EndpointSpec&, const EndpointSpec&) = default;
};

struct ScaleTargets {
  std::optional<int> cpu;      // percent, 1-100
  std::optional<int> memory;   // percent, 1-100
  std::optional<int64_t> rps;  // requests per second, >= 1
  friend bool operator==(const ScaleTargets&, const ScaleTargets&) = default;
};

// Default (no `scale:`): the reference's adaptive 1..10 with a 30s cooldown.
struct ScaleSpec {
  ScaleMode mode = ScaleMode::adaptive;
  uint32_t replicas = 0;                         // fixed
  uint32_t min = 1, max = 10;                    // adaptive; min <= max
  Duration cooldown = std::chrono::seconds(30);  // adaptive
  ScaleTargets targets;                          // adaptive
  friend bool operator==(const ScaleSpec&, const ScaleSpec&) = default;
};

struct DependsSpec {
  std::string service;  // another service of the deployment
  DependencyCondition condition = DependencyCondition::healthy;
  Duration timeout = std::chrono::seconds(300);
  TimeoutAction on_timeout = TimeoutAction::fail;
  friend bool operator==(const DependsSpec&, const DependsSpec&) = default;
};

struct HealthCheck {
  HealthCheckType type = HealthCheckType::tcp;
  // tcp: the port to connect to (given, or the first tcp-carrying endpoint's target_port).
  // http: the port when `url` is a path ("/healthz": the first http/https/websocket endpoint's
  // target_port), else 0 (the URL names it).
  uint16_t port = 0;
  std::string url;                   // http: "http://host[:port]/path" or "/path"
  int expect_status = 200;           // http: 100-599
  std::vector<std::string> command;  // command: argv; a string in the YAML becomes /bin/sh -c <string>
  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

// With no `health:`, an rtype service with an endpoint that is not udp gets the reference's default
// (a tcp check of the first such endpoint's target_port, 5s grace, 3 retries); anything else gets
// none (it counts as healthy once running). interval and timeout, unset in the reference, default
// here to 10s and 5s.
struct HealthSpec {
  Duration start_grace = std::chrono::seconds(5);
  Duration interval = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(5);
  uint32_t retries = 3;
  HealthCheck check;
  friend bool operator==(const HealthSpec&, const HealthSpec&) = default;
};

// Unset in the spec: the daemon's own default applies.
struct RestartPolicy {
  RestartKind kind = RestartKind::always;
  std::optional<uint32_t> max_attempts;  // on_failure only
  std::optional<Duration> delay;         // between restarts
  friend bool operator==(const RestartPolicy&, const RestartPolicy&) = default;
};

struct StorageSpec {
  StorageType type = StorageType::bind;
  std::string source;            // bind: absolute host path; named: volume name; tmpfs: empty
  std::string target;            // absolute path in the container
  bool readonly = false;         // bind, named
  std::optional<int64_t> size;   // tmpfs: bytes
  std::optional<uint32_t> mode;  // tmpfs: permission bits (written in octal: 1777)
  friend bool operator==(const StorageSpec&, const StorageSpec&) = default;
};

struct UlimitSpec {
  static constexpr uint64_t kUnlimited = UINT64_MAX;  // "unlimited" or -1 in the YAML
  uint64_t soft = 0, hard = 0;                        // one given: the other is the same
  friend bool operator==(const UlimitSpec&, const UlimitSpec&) = default;
};

struct DeviceSpec {
  std::string path;  // host device node, absolute; the same path in the container
  bool read = true, write = true, mknod = false;
  friend bool operator==(const DeviceSpec&, const DeviceSpec&) = default;
};

// A command the daemon runs inside the container (exec): after it starts, before it is stopped.
struct LifecycleHook {
  std::vector<std::string> command;  // argv; a string in the YAML becomes /bin/sh -c <string>
  friend bool operator==(const LifecycleHook&, const LifecycleHook&) = default;
};

struct LifecycleSpec {
  std::optional<LifecycleHook> post_start;
  std::optional<LifecycleHook> pre_stop;
  friend bool operator==(const LifecycleSpec&, const LifecycleSpec&) = default;
};

struct ServiceSpec {
  std::string name;  // DNS label: the key under `services:`
  ResourceType rtype = ResourceType::service;
  std::optional<CronSchedule> schedule;  // set exactly when rtype is cron
  ImageSpec image;

  // Per container (agent/replica_spec.h maps these onto a ContainerSpec).
  ResourcesSpec resources;
  std::map<std::string, EnvValue> env;
  CommandSpec command;
  std::vector<StorageSpec> storage;
  std::vector<std::string> capabilities;  // normalized: "CAP_NET_ADMIN", or "ALL"
  std::vector<std::string> cap_drop;      // normalized likewise
  bool privileged = false;
  bool read_only_root_fs = false;
  std::optional<std::string> hostname;
  std::map<std::string, std::string> labels;  // no "zlayer." keys: those are zlayer's own
  std::optional<std::string> user;
  std::optional<std::string> stop_signal;  // normalized: "SIGTERM"
  std::optional<Duration> stop_grace_period;
  std::map<std::string, std::string> sysctls;
  std::map<std::string, UlimitSpec> ulimits;  // lower-case names: "nofile"
  std::vector<DeviceSpec> devices;

  // For the daemon.
  std::vector<EndpointSpec> endpoints;
  ScaleSpec scale;
  std::vector<DependsSpec> depends;
  std::optional<HealthSpec> health;
  std::optional<RestartPolicy> restart_policy;
  Isolation isolation = Isolation::process;
  LifecycleSpec lifecycle;

  friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

struct DeploymentSpec {
  std::string version = "v1";
  std::string deployment;             // 3-63 of [a-z0-9-], starting and ending alphanumeric
  std::vector<ServiceSpec> services;  // in the order of the file
  std::string source;                 // the file it came from (for messages); not part of the spec

  const ServiceSpec* find_service(std::string_view name) const;
  ServiceSpec* find_service(std::string_view name);

  friend bool operator==(const DeploymentSpec& a, const DeploymentSpec& b) {
    return a.version == b.version && a.deployment == b.deployment && a.services == b.services;
  }
};

// Canonical JSON (keys sorted; every default spelled out; durations, sizes and enums as in the
// YAML), for status output and change detection. It is itself a valid spec: parsing the dump of
// to_json(deployment) gives the deployment back (services then in name order). Env values taken
// from the daemon's environment appear as "$E:NAME", never as their value.
nlohmann::json to_json(const ServiceSpec& service);  // without the name
nlohmann::json to_json(const DeploymentSpec& deployment);

// SHA-256 (64 hex digits) of what a replica of the service is made from: the canonical JSON with
// resolved env values, but without `scale` — changing the replica count adds or removes replicas,
// it does not replace the running ones. Equal hashes: a running replica is up to date.
std::string spec_hash(const ServiceSpec& service);

// Fills every "$E:NAME" env value from `lookup` (normally getenv). Nothing changes unless every
// one is found; the first missing -> invalid_argument naming the service, the variable and the
// file. Values already resolved are looked up again (a redeploy takes the current environment).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
Status resolve_env(DeploymentSpec& deployment, const EnvLookup& lookup);

}  // namespace zl::spec
