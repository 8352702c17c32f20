// Every refusal names the file, the line and column (1-based) of the offending value or key, its
// path in the spec, and what was expected.
#include <gtest/gtest.h>

#include "spec/parse.h"

namespace zl::spec {
namespace {

// Lines 1-6; a service's further fields start on line 7, column 5.
constexpr std::string_view kHead =
    "version: v1\n"
    "deployment: app\n"
    "services:\n"
    "  web:\n"
    "    image:\n"
    "      name: nginx\n";

void expect_error(std::string_view yaml, std::string_view expected) {
  auto d = parse_deployment(yaml, "app.zlayer.yml");
  ASSERT_FALSE(d) << "parsed:\n" << yaml;
  EXPECT_EQ(d.error().kind, ErrorKind::invalid_argument);
  const std::string& msg = d.error().message;
  EXPECT_EQ(msg.substr(0, expected.size()), expected) << "full message: " << msg << "\nspec:\n" << yaml;
}

void expect_service_error(std::string_view fields, std::string_view expected) {
  expect_error(std::string(kHead) + std::string(fields), expected);
}

TEST(SpecErrors, TopLevel) {
  expect_error("version: v2\ndeployment: app\n", "app.zlayer.yml:1:10: version: expected \"v1\", got \"v2\"");
  expect_error("deployment: app\n", "app.zlayer.yml:1:1: missing field \"version\" (\"v1\")");
  expect_error("version: v1\ndeployment: My_App\n",
               "app.zlayer.yml:2:13: deployment: expected a deployment name of 3-63 lowercase letters");
  expect_error("version: v1\ndeployment: ab\n",
               "app.zlayer.yml:2:13: deployment: expected a deployment name");
  expect_error("version: v1\ndeployment: app\nservice: {}\n",
               "app.zlayer.yml:3:1: unknown field \"service\" (did you mean \"services\"?)");
  expect_error("version: v1\ndeployment: app\ntunnels: {}\n",
               "app.zlayer.yml:3:1: field \"tunnels\" is not supported by zlayer");
  expect_error("version: v1\ndeployment: app\nservices: [web]\n",
               "app.zlayer.yml:3:11: services: expected a mapping of service names to services, got a list");
  expect_error("version: v1\ndeployment: app\nservices:\n  Web:\n    image: {name: x}\n",
               "app.zlayer.yml:4:3: services: invalid service name \"Web\"");
  expect_error(
      "version: v1\ndeployment: app\nservices:\n  web:\n",
      "app.zlayer.yml:4:3: services.web: expected a mapping with the service's image and settings, got "
      "nothing");
  expect_error("", "app.zlayer.yml:1:1: the spec is empty");
  expect_error("- a\n- b\n", "app.zlayer.yml:1:1: expected a mapping, got a list");
  expect_error("version: v1\ndeployment: app\n---\nversion: v1\n",
               "app.zlayer.yml:3:1: expected one YAML document, found 2");
  // yaml-cpp's LoadAll never returns on this one (found by fuzz/spec_fuzzer).
  expect_error(",", "app.zlayer.yml:1:1: invalid YAML: a document that cannot be read (a stray \",\"?)");
  expect_error("version: v1\n,\n", "app.zlayer.yml:2:1: invalid YAML: end of map not found");
}

TEST(SpecErrors, YamlSyntaxAndKeys) {
  expect_error("version: v1\ndeployment: [app\n",
               "app.zlayer.yml:3:1: invalid YAML: end of sequence flow not found");
  expect_error("version: v1\n  deployment: app\n", "app.zlayer.yml:2:13: invalid YAML: illegal map value");
  expect_service_error("    privileged: true\n    privileged: false\n",
                       "app.zlayer.yml:8:5: services.web: duplicate field \"privileged\"");
  expect_service_error("    <<: {privileged: true}\n",
                       "app.zlayer.yml:7:5: services.web: YAML merge keys (<<) are not supported");
}

TEST(SpecErrors, UnknownAndUnsupportedFields) {
  expect_service_error(
      "    imagee: x\n",
      "app.zlayer.yml:7:5: services.web: unknown field \"imagee\" (did you mean \"image\"?)");
  expect_service_error("    frobnicate: 1\n",
                       "app.zlayer.yml:7:5: services.web: unknown field \"frobnicate\"");
  expect_service_error("    network: {}\n",
                       "app.zlayer.yml:7:5: services.web: field \"network\" is not supported by zlayer");
  expect_service_error(
      "    cap_add: [NET_ADMIN]\n",
      "app.zlayer.yml:7:5: services.web: field \"cap_add\" is spelled \"capabilities\" in a zlayer "
      "spec");
  expect_service_error(
      "    resources:\n      gpu: {count: 1}\n",
      "app.zlayer.yml:8:7: services.web.resources: field \"gpu\" is not supported by zlayer");
  expect_service_error(
      "    lifecycle:\n      delete_on_exit: true\n",
      "app.zlayer.yml:8:7: services.web.lifecycle: field \"delete_on_exit\" is not supported by "
      "zlayer");
  expect_service_error(
      "    command:\n      cmd: [a]\n",
      "app.zlayer.yml:8:7: services.web.command: unknown field \"cmd\" (expected entrypoint, args or "
      "workdir)");
}

TEST(SpecErrors, ImageAndResources) {
  expect_error("version: v1\ndeployment: app\nservices:\n  web:\n    rtype: job\n",
               "app.zlayer.yml:5:5: services.web: missing field \"image\" (a mapping with the image's name)");
  expect_error(
      "version: v1\ndeployment: app\nservices:\n  web:\n    image:\n",
      "app.zlayer.yml:5:5: services.web.image: expected a mapping with the image's name, got nothing");
  expect_error("version: v1\ndeployment: app\nservices:\n  web:\n    image: nginx\n",
               "app.zlayer.yml:5:12: services.web.image: expected a mapping, got \"nginx\"");
  expect_error("version: v1\ndeployment: app\nservices:\n  web:\n    image:\n      name: \"Nginx:latest\"\n",
               "app.zlayer.yml:6:13: services.web.image.name: invalid reference");
  expect_service_error(
      "    rtype: daemon\n",
      "app.zlayer.yml:7:12: services.web.rtype: expected service, job or cron, got \"daemon\"");
  expect_service_error(
      "    resources:\n      cpu: 0\n",
      "app.zlayer.yml:8:12: services.web.resources.cpu: expected a positive number of cores, got "
      "\"0\"");
  expect_service_error(
      "    resources:\n      cpu: lots\n",
      "app.zlayer.yml:8:12: services.web.resources.cpu: expected a positive number of cores, got "
      "\"lots\"");
  expect_service_error(
      "    resources:\n      memory: 512m\n",
      "app.zlayer.yml:8:15: services.web.resources.memory: invalid size \"512m\": the suffix \"m\" "
      "is ambiguous");
  expect_service_error(
      "    resources:\n      pids_limit: 0\n",
      "app.zlayer.yml:8:19: services.web.resources.pids_limit: expected a positive integer, got "
      "\"0\"");
}

TEST(SpecErrors, Scale) {
  expect_service_error(
      "    scale:\n      mode: fixed\n      replicas: three\n",
      "app.zlayer.yml:9:17: services.web.scale.replicas: expected a non-negative integer, got "
      "\"three\"");
  expect_service_error(
      "    scale:\n      mode: fixed\n      replicas: -1\n",
      "app.zlayer.yml:9:17: services.web.scale.replicas: expected a non-negative integer, got "
      "\"-1\"");
  expect_service_error("    scale:\n      mode: fixed\n",
                       "app.zlayer.yml:8:7: services.web.scale: missing field \"replicas\"");
  expect_service_error(
      "    scale:\n      mode: fixed\n      replicas: 2\n      min: 1\n",
      "app.zlayer.yml:10:7: services.web.scale: \"min\" does not apply to scale mode fixed (it takes "
      "replicas)");
  expect_service_error(
      "    scale: {mode: elastic}\n",
      "app.zlayer.yml:7:19: services.web.scale.mode: expected adaptive, fixed or manual, got "
      "\"elastic\"");
  expect_service_error("    scale:\n      mode: adaptive\n      min: 5\n      max: 2\n",
                       "app.zlayer.yml:9:12: services.web.scale.min: min (5) is above max (2)");
  expect_service_error(
      "    scale:\n      mode: adaptive\n      min: 1\n      max: 3\n      targets: {cpu: 150}\n",
      "app.zlayer.yml:11:22: services.web.scale.targets.cpu: expected a percentage (1-100), got "
      "\"150\"");
  expect_service_error(
      "    scale:\n      mode: adaptive\n      min: 1\n      max: 3\n      cooldown: 30\n",
      "app.zlayer.yml:11:17: services.web.scale.cooldown: invalid duration \"30\": the number 30 has "
      "no unit");
}

TEST(SpecErrors, Endpoints) {
  expect_service_error(
      "    endpoints:\n      - name: http\n        protocol: http\n        port: 70000\n",
      "app.zlayer.yml:10:15: services.web.endpoints[0].port: expected a port number (1-65535), got "
      "\"70000\"");
  expect_service_error(
      "    endpoints:\n      - name: http\n        protocol: ftp\n        port: 21\n",
      "app.zlayer.yml:9:19: services.web.endpoints[0].protocol: expected tcp, udp, http, https or "
      "websocket, got \"ftp\"");
  expect_service_error("    endpoints:\n      - name: http\n        port: 80\n",
                       "app.zlayer.yml:8:9: services.web.endpoints[0]: missing field \"protocol\"");
  expect_service_error(
      "    endpoints:\n      - {name: a, protocol: http, port: 80}\n"
      "      - {name: a, protocol: http, port: 81}\n",
      "app.zlayer.yml:9:16: services.web.endpoints[1].name: endpoint name \"a\" is already used by "
      "endpoints[0]");
  expect_service_error(
      "    endpoints:\n      - {name: a, protocol: http, port: 80}\n"
      "      - {name: b, protocol: tcp, port: 80}\n",
      "app.zlayer.yml:9:40: services.web.endpoints[1].port: port 80/tcp is already used by endpoint "
      "\"a\"");
  expect_service_error(
      "    endpoints:\n      - {name: a, protocol: tcp, port: 5000, path: /x}\n",
      "app.zlayer.yml:8:52: services.web.endpoints[0].path: a path only applies to http, https and "
      "websocket endpoints, not tcp");
  expect_service_error(
      "    endpoints:\n      - {name: a, protocol: http, port: 80, expose: world}\n",
      "app.zlayer.yml:8:53: services.web.endpoints[0].expose: expected public or internal, got "
      "\"world\"");
}

TEST(SpecErrors, ScheduleAndRtype) {
  expect_service_error("    rtype: cron\n",
                       "app.zlayer.yml:7:12: services.web.rtype: a cron service needs a schedule");
  expect_service_error(
      "    schedule: \"0 0 0 * * * *\"\n",
      "app.zlayer.yml:7:15: services.web.schedule: a schedule only applies to rtype cron, and this "
      "is a service");
  expect_service_error(
      "    rtype: cron\n    schedule: \"0 0 * * *\"\n",
      "app.zlayer.yml:8:15: services.web.schedule: invalid cron schedule \"0 0 * * *\": expected 7 "
      "fields");
  expect_service_error(
      "    rtype: cron\n    schedule: \"0 0 25 * * * *\"\n",
      "app.zlayer.yml:8:15: services.web.schedule: invalid cron schedule \"0 0 25 * * * *\": hour "
      "field \"25\": 25 is outside 0-23");
}

TEST(SpecErrors, Dependencies) {
  expect_service_error(
      "    depends:\n      - service: dbb\n",
      "app.zlayer.yml:8:18: services.web.depends[0].service: \"dbb\" is not a service of this "
      "deployment (services: web)");
  expect_service_error(
      "    depends:\n      - service: web\n",
      "app.zlayer.yml:8:18: services.web.depends[0].service: a service cannot depend on itself");
  expect_service_error(
      "    depends:\n      - service: web\n        condition: alive\n",
      "app.zlayer.yml:9:20: services.web.depends[0].condition: expected started, healthy or ready, "
      "got \"alive\"");
  expect_error(
      "version: v1\n"
      "deployment: app\n"
      "services:\n"
      "  a:\n"
      "    image: {name: x}\n"
      "    depends: [{service: b}]\n"
      "  b:\n"
      "    image: {name: x}\n"
      "    depends: [{service: c}]\n"
      "  c:\n"
      "    image: {name: x}\n"
      "    depends: [{service: d}, {service: a}]\n"
      "  d:\n"
      "    image: {name: x}\n",
      "app.zlayer.yml:6:25: services.a.depends[0].service: dependency cycle: a -> b -> c -> a");
}

TEST(SpecErrors, Health) {
  expect_service_error(
      "    health:\n      check: {type: tcp}\n",
      "app.zlayer.yml:8:14: services.web.health.check: a tcp check needs a port: give check.port, or "
      "an endpoint that is not udp");
  expect_service_error(
      "    health:\n      check: {type: tcp, url: /x}\n",
      "app.zlayer.yml:8:26: services.web.health.check: \"url\" does not apply to a tcp check (it "
      "takes port)");
  expect_service_error(
      "    health:\n      check: {type: http, url: /healthz}\n",
      "app.zlayer.yml:8:32: services.web.health.check.url: the path \"/healthz\" needs an http, https "
      "or websocket endpoint to take the port from");
  expect_service_error(
      "    health:\n      check: {type: http, url: \"ftp://x/\"}\n",
      "app.zlayer.yml:8:32: services.web.health.check.url: expected a URL starting with http:// or "
      "https://, or a path, got \"ftp://x/\"");
  expect_service_error("    health:\n      check: {type: http, url: \"http://localhost:99999/\"}\n",
                       "app.zlayer.yml:8:32: services.web.health.check.url: invalid port \"99999\"");
  expect_service_error(
      "    health:\n      interval: 0s\n      check: {type: command, command: [true]}\n",
      "app.zlayer.yml:8:17: services.web.health.interval: expected a duration above zero, got \"0s\"");
  expect_service_error(
      "    health:\n      check: {type: command, command: []}\n",
      "app.zlayer.yml:8:39: services.web.health.check.command: expected a command, got an empty "
      "list");
  expect_service_error("    health:\n      retries: 3\n",
                       "app.zlayer.yml:8:7: services.web.health: missing field \"check\"");
}

TEST(SpecErrors, RestartStorageDevices) {
  expect_service_error(
      "    restart_policy: {kind: always, max_attempts: 3}\n",
      "app.zlayer.yml:7:50: services.web.restart_policy.max_attempts: max_attempts only applies to "
      "kind on_failure, not always");
  expect_service_error(
      "    restart_policy: {kind: sometimes}\n",
      "app.zlayer.yml:7:28: services.web.restart_policy.kind: expected no, on_failure, always or "
      "unless_stopped, got \"sometimes\"");
  expect_service_error(
      "    storage:\n      - {type: s3, bucket: b, target: /m}\n",
      "app.zlayer.yml:8:16: services.web.storage[0].type: storage type \"s3\" is not supported by "
      "zlayer (use bind, named or tmpfs)");
  expect_service_error("    storage:\n      - {type: anonymous, target: /cache}\n",
                       "app.zlayer.yml:8:16: services.web.storage[0].type: storage type \"anonymous\" is not "
                       "supported");
  expect_service_error(
      "    storage:\n      - {type: bind, source: data, target: /data}\n",
      "app.zlayer.yml:8:30: services.web.storage[0].source: expected an absolute path, got \"data\"");
  expect_service_error(
      "    storage:\n      - {type: named, name: Data, target: /data}\n",
      "app.zlayer.yml:8:29: services.web.storage[0].name: expected a volume name of 2-63 lowercase");
  expect_service_error(
      "    storage:\n      - {type: named, name: data, target: /data, tier: cached}\n",
      "app.zlayer.yml:8:50: services.web.storage[0]: field \"tier\" is not supported by zlayer");
  expect_service_error(
      "    storage:\n      - {type: bind, source: /a, target: /a, size: 1Gi}\n",
      "app.zlayer.yml:8:46: services.web.storage[0]: \"size\" does not apply to bind storage (it takes "
      "source, target or readonly)");
  expect_service_error(
      "    storage:\n      - {type: tmpfs, target: /t, mode: 999}\n",
      "app.zlayer.yml:8:41: services.web.storage[0].mode: expected octal permission bits like 1777 or "
      "0755, got \"999\"");
  expect_service_error(
      "    storage:\n      - {type: tmpfs, target: /t}\n      - {type: bind, source: /x, target: /t/}\n",
      "app.zlayer.yml:9:42: services.web.storage[1].target: \"/t\" is already mounted by storage[0]");
  expect_service_error(
      "    storage:\n      - {type: tmpfs, target: /}\n",
      "app.zlayer.yml:8:31: services.web.storage[0].target: cannot mount over the container's root");
  expect_service_error(
      "    devices:\n      - {path: /dev/fuse, read: false, write: false}\n",
      "app.zlayer.yml:8:9: services.web.devices[0]: a device needs one of read, write or mknod");
  expect_service_error(
      "    devices:\n      - {path: /dev/fuse, read: yes}\n",
      "app.zlayer.yml:8:33: services.web.devices[0].read: expected true or false, got \"yes\"");
}

TEST(SpecErrors, ProcessAndSecurity) {
  expect_service_error("    env:\n      DB: \"$E:\"\n",
                       "app.zlayer.yml:8:11: services.web.env.DB: expected $E: and a variable name "
                       "([A-Za-z_][A-Za-z0-9_]*), got \"$E:\"");
  expect_service_error(
      "    env:\n      DB: $S:db-password\n",
      "app.zlayer.yml:8:11: services.web.env.DB: secret references (\"$S:db-password\") are not "
      "supported by zlayer");
  expect_service_error(
      "    env:\n      DB:\n",
      "app.zlayer.yml:8:7: services.web.env.DB: expected a string value (\"\" for an empty one), got "
      "nothing");
  expect_service_error("    env: [A=1]\n",
                       "app.zlayer.yml:7:10: services.web.env: expected a mapping, got a list");
  expect_service_error(
      "    command:\n      workdir: srv\n",
      "app.zlayer.yml:8:16: services.web.command.workdir: expected an absolute path, got \"srv\"");
  expect_service_error(
      "    command:\n      args: run\n",
      "app.zlayer.yml:8:13: services.web.command.args: expected a list of strings, got \"run\"");
  expect_service_error("    capabilities: [NET_ADMIN, FLY]\n",
                       "app.zlayer.yml:7:31: services.web.capabilities[1]: unknown capability \"FLY\"");
  expect_service_error(
      "    sysctls:\n      kernel.hostname: x\n",
      "app.zlayer.yml:8:7: services.web.sysctls: sysctl \"kernel.hostname\" is not namespaced");
  expect_service_error("    ulimits:\n      nofiles: 10\n",
                       "app.zlayer.yml:8:7: services.web.ulimits: unknown ulimit \"nofiles\"");
  expect_service_error(
      "    ulimits:\n      nofile: {soft: 20, hard: 10}\n",
      "app.zlayer.yml:8:15: services.web.ulimits.nofile: the soft limit is above the hard limit");
  expect_service_error(
      "    ulimits:\n      nofile: lots\n",
      "app.zlayer.yml:8:15: services.web.ulimits.nofile: expected a non-negative integer, -1 or "
      "\"unlimited\", got \"lots\"");
  expect_service_error("    stop_signal: SIGFOO\n",
                       "app.zlayer.yml:7:18: services.web.stop_signal: invalid signal \"SIGFOO\"");
  expect_service_error(
      "    stop_grace_period: 5x\n",
      "app.zlayer.yml:7:24: services.web.stop_grace_period: invalid duration \"5x\": unknown unit "
      "\"x\"");
  expect_service_error("    hostname: -bad-\n",
                       "app.zlayer.yml:7:15: services.web.hostname: expected a hostname");
  expect_service_error("    user: \"a:b:c\"\n",
                       "app.zlayer.yml:7:11: services.web.user: expected a user like \"app\", \"1000\" or "
                       "\"1000:1000\", got \"a:b:c\"");
  expect_service_error(
      "    labels:\n      zlayer.service: mine\n",
      "app.zlayer.yml:8:7: services.web.labels: label \"zlayer.service\": names starting with "
      "\"zlayer.\" are kept for zlayer's own labels");
  expect_service_error("    isolation: hyperv\n",
                       "app.zlayer.yml:7:16: services.web.isolation: expected process or vm, got \"hyperv\"");
  expect_service_error(
      "    lifecycle:\n      pre_stop: {command: \"\"}\n",
      "app.zlayer.yml:8:27: services.web.lifecycle.pre_stop.command: expected a command, got \"\"");
}

}  // namespace
}  // namespace zl::spec
