// The cross-field rules on a spec built in code (no file): messages then start with the path.
#include <gtest/gtest.h>

#include "spec/validate.h"

namespace zl::spec {
namespace {

ServiceSpec service(std::string name, std::vector<std::string> depends = {}) {
  ServiceSpec s;
  s.name = std::move(name);
  s.image.name = "busybox";
  for (auto& d : depends) s.depends.push_back(DependsSpec{std::move(d)});
  return s;
}

DeploymentSpec deployment(std::vector<ServiceSpec> services) {
  DeploymentSpec d;
  d.deployment = "app";
  d.services = std::move(services);
  return d;
}

std::string error_of(const DeploymentSpec& d) {
  auto st = validate_deployment(d);
  if (st) return "(valid)";
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_argument);
  return st.error().message;
}

TEST(SpecValidate, WithoutPositions) {
  EXPECT_EQ(error_of(deployment({service("a", {"b"}), service("b")})), "(valid)");
  EXPECT_EQ(error_of(deployment({service("a", {"b"}), service("b", {"a"})})),
            "services.a.depends[0].service: dependency cycle: a -> b -> a");
  // A diamond is not a cycle.
  EXPECT_EQ(error_of(deployment(
                {service("a", {"b", "c"}), service("b", {"d"}), service("c", {"d"}), service("d")})),
            "(valid)");
  EXPECT_EQ(error_of(deployment({service("a"), service("a")})), "services.a: service \"a\" is defined twice");
  EXPECT_EQ(error_of(deployment({service("a", {"b", "b"}), service("b")})),
            "services.a.depends[1].service: \"b\" is listed twice");

  auto cron = service("job");
  cron.rtype = ResourceType::cron;
  EXPECT_EQ(
      error_of(deployment({cron})),
      "services.job.rtype: a cron service needs a schedule (like \"0 0 3 * * * *\": daily at 03:00 UTC)");

  auto adaptive = service("web");
  adaptive.scale.min = 3;
  adaptive.scale.max = 2;
  EXPECT_EQ(error_of(deployment({adaptive})), "services.web.scale.min: min (3) is above max (2)");

  auto udp = service("dns");
  udp.endpoints = {EndpointSpec{"tcp", Protocol::tcp, 53, 53}, EndpointSpec{"udp", Protocol::udp, 53, 53}};
  EXPECT_EQ(error_of(deployment({udp})), "(valid)");  // 53/tcp and 53/udp
  udp.health = HealthSpec{};
  EXPECT_EQ(
      error_of(deployment({udp})),
      "services.dns.health.check: a tcp check needs a port: give check.port, or an endpoint that is not udp");

  DeploymentSpec bad_name = deployment({service("a")});
  bad_name.deployment = "x";
  EXPECT_EQ(error_of(bad_name),
            "deployment: expected a deployment name of 3-63 lowercase letters, digits and \"-\", "
            "got \"x\"");
}

TEST(SpecValidate, SourceMapFallsBackToTheNearestRecordedParent) {
  SourceMap where("app.zlayer.yml");
  where.add("services.web", 4, 3);
  where.add("services.web.scale.min", 9, 12);
  EXPECT_EQ(where.where("services.web.scale.min"), "app.zlayer.yml:9:12: services.web.scale.min");
  EXPECT_EQ(where.where("services.web.health.check"), "app.zlayer.yml:4:3: services.web.health.check");
  EXPECT_EQ(where.where("services.web.depends[0].service"),
            "app.zlayer.yml:4:3: services.web.depends[0].service");
  EXPECT_EQ(where.where("version"), "app.zlayer.yml: version");
  EXPECT_EQ(SourceMap().where("version"), "version");
}

}  // namespace
}  // namespace zl::spec
