// "$E:NAME" env values: filled from the daemon's environment, all or nothing, errors naming the
// service and the variable.
#include <gtest/gtest.h>

#include "spec/parse.h"

namespace zl::spec {
namespace {

constexpr std::string_view kSpec =
    "version: v1\n"
    "deployment: app\n"
    "services:\n"
    "  api:\n"
    "    image: {name: api}\n"
    "    env:\n"
    "      PLAIN: \"$E is not a reference\"\n"
    "      TOKEN: $E:API_TOKEN\n"
    "  worker:\n"
    "    image: {name: worker}\n"
    "    env:\n"
    "      TOKEN: $E:API_TOKEN\n"
    "      QUEUE: $E:QUEUE_URL\n";

EnvLookup from(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SpecEnv, ResolvesFromTheLookup) {
  auto d = parse_deployment(kSpec, "app.zlayer.yml");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(resolve_env(*d, from({{"API_TOKEN", "s3cret"}, {"QUEUE_URL", ""}, {"OTHER", "x"}})));
  const auto& api = d->find_service("api")->env;
  EXPECT_EQ(api.at("PLAIN"), (EnvValue{"$E is not a reference", std::nullopt, false}));
  EXPECT_EQ(api.at("TOKEN"), (EnvValue{"s3cret", "API_TOKEN", true}));
  const auto& worker = d->find_service("worker")->env;
  EXPECT_EQ(worker.at("QUEUE"), (EnvValue{"", "QUEUE_URL", true}));  // set but empty is set

  // A redeploy looks again.
  ASSERT_TRUE(resolve_env(*d, from({{"API_TOKEN", "rotated"}, {"QUEUE_URL", "amqp://q"}})));
  EXPECT_EQ(d->find_service("api")->env.at("TOKEN").value, "rotated");
}

TEST(SpecEnv, MissingVariableNamesServiceAndVariableAndChangesNothing) {
  auto d = parse_deployment(kSpec, "app.zlayer.yml");
  ASSERT_TRUE(d) << d.error().message;
  DeploymentSpec before = *d;
  auto st = resolve_env(*d, from({{"API_TOKEN", "s3cret"}}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(st.error().message,
            "app.zlayer.yml: services.worker.env.QUEUE: $E:QUEUE_URL is not set in zlayer's environment");
  EXPECT_EQ(d->find_service("api")->env.at("TOKEN"), before.find_service("api")->env.at("TOKEN"));
  EXPECT_FALSE(d->find_service("api")->env.at("TOKEN").resolved);
}

}  // namespace
}  // namespace zl::spec
