// Docker's process rules: entrypoint/cmd, environment merge, working directory, stop signal,
// and type checks on the image config.
#include <gtest/gtest.h>

#include <csignal>

#include "oci/process.h"

namespace zl {
namespace {

using Args = std::vector<std::string>;

ImageRunConfig image(Args entrypoint, Args cmd) {
  ImageRunConfig c;
  c.entrypoint = std::move(entrypoint);
  c.cmd = std::move(cmd);
  return c;
}

TEST(ProcessArgs, ImageEntrypointAndCmd) {
  ContainerSpec spec;
  EXPECT_EQ(*resolve_args(spec, image({"/entry", "-x"}, {"run", "fast"})),
            (Args{"/entry", "-x", "run", "fast"}));
  EXPECT_EQ(*resolve_args(spec, image({}, {"/bin/sh"})), (Args{"/bin/sh"}));
}

TEST(ProcessArgs, SpecCmdReplacesImageCmd) {
  ContainerSpec spec;
  spec.cmd = {"other"};
  EXPECT_EQ(*resolve_args(spec, image({"/entry"}, {"run"})), (Args{"/entry", "other"}));
}

TEST(ProcessArgs, SpecEntrypointDropsImageCmdUnlessCmdGiven) {
  ContainerSpec spec;
  spec.entrypoint = Args{"/bin/echo"};
  EXPECT_EQ(*resolve_args(spec, image({"/entry"}, {"run"})), (Args{"/bin/echo"}));
  spec.cmd = {"hi"};
  EXPECT_EQ(*resolve_args(spec, image({"/entry"}, {"run"})), (Args{"/bin/echo", "hi"}));
  spec.entrypoint = Args{};  // --entrypoint "": no entrypoint, only the spec's cmd
  EXPECT_EQ(*resolve_args(spec, image({"/entry"}, {"run"})), (Args{"hi"}));
}

TEST(ProcessArgs, NothingToRunIsAnError) {
  ContainerSpec spec;
  auto none = resolve_args(spec, image({}, {}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(none.error().message, "no command specified");

  spec.entrypoint = Args{};
  EXPECT_FALSE(resolve_args(spec, image({}, {"/bin/sh"})));  // empty entrypoint also dropped the image cmd
}

TEST(ProcessEnv, DefaultsThenImageThenSpec) {
  auto env = merge_env({"PATH=/image/bin", "LANG=C", "HOSTNAME=img"}, {"LANG=en_US.UTF-8", "EXTRA=1"},
                       {.hostname = "web", .tty = true, .home = "/home/app"});
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(*env, (Args{"PATH=/image/bin", "HOSTNAME=img", "TERM=xterm", "LANG=en_US.UTF-8", "EXTRA=1",
                        "HOME=/home/app"}));
}

TEST(ProcessEnv, DockersPathWhenTheImageHasNone) {
  auto env = merge_env({"A=1"}, {}, {.hostname = "h"});
  ASSERT_TRUE(env);
  EXPECT_EQ(*env, (Args{std::string("PATH=") + kDefaultPath, "HOSTNAME=h", "A=1"}));  // no TERM without a tty
}

TEST(ProcessEnv, HomeFromImageOrSpecWins) {
  auto env = merge_env({"HOME=/data"}, {}, {.hostname = "h", .home = "/root"});
  ASSERT_TRUE(env);
  EXPECT_EQ(env->back(), "HOME=/data");
  EXPECT_EQ(
      std::count_if(env->begin(), env->end(), [](const std::string& e) { return e.starts_with("HOME="); }),
      1);
}

TEST(ProcessEnv, BareKeyRemovesAndEmptyKeyIsRefused) {
  auto env = merge_env({"SECRET=x", "KEEP=1"}, {"SECRET"}, {.hostname = "h"});
  ASSERT_TRUE(env);
  EXPECT_EQ(
      std::count_if(env->begin(), env->end(), [](const std::string& e) { return e.starts_with("SECRET"); }),
      0);
  auto bad = merge_env({}, {"=oops"}, {.hostname = "h"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(bad.error().message.find("=oops"), std::string::npos);
}

TEST(ProcessWorkdir, SpecThenImageThenRoot) {
  ContainerSpec spec;
  ImageRunConfig img;
  EXPECT_EQ(*resolve_workdir(spec, img), "/");
  img.working_dir = "/srv/app/";
  EXPECT_EQ(*resolve_workdir(spec, img), "/srv/app");
  img.working_dir = "relative/dir";
  EXPECT_EQ(*resolve_workdir(spec, img), "/relative/dir");
  spec.workdir = "/work/../data";
  EXPECT_EQ(*resolve_workdir(spec, img), "/data");
  spec.workdir = "data";
  auto bad = resolve_workdir(spec, img);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_argument);
}

TEST(ProcessStopSignal, SpecThenImageThenSigterm) {
  ContainerSpec spec;
  ImageRunConfig img;
  EXPECT_EQ(*resolve_stop_signal(spec, img), SIGTERM);
  img.stop_signal = "SIGQUIT";
  EXPECT_EQ(*resolve_stop_signal(spec, img), SIGQUIT);
  spec.stop_signal = "usr1";
  EXPECT_EQ(*resolve_stop_signal(spec, img), SIGUSR1);
  spec.stop_signal = "SIGFOO";
  auto bad = resolve_stop_signal(spec, img);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(bad.error().message.find("SIGFOO"), std::string::npos);
  spec.stop_signal.clear();
  img.stop_signal = "NOPE";
  EXPECT_NE(resolve_stop_signal(spec, img).error().message.find("image config StopSignal"),
            std::string::npos);
}

TEST(ImageRunConfigParse, ReadsFieldsAndToleratesNulls) {
  auto c = parse_image_config(nlohmann::json::parse(R"({
    "architecture": "amd64",
    "config": {"Env": ["A=1"], "Cmd": null, "Entrypoint": ["/e"], "WorkingDir": "/w", "User": "app",
               "StopSignal": "SIGINT", "Labels": {"k": "v"}}})"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->env, Args{"A=1"});
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_EQ(c->entrypoint, Args{"/e"});
  EXPECT_EQ(c->working_dir, "/w");
  EXPECT_EQ(c->user, "app");
  EXPECT_EQ(c->stop_signal, "SIGINT");
  EXPECT_EQ(c->labels.at("k"), "v");
  EXPECT_TRUE(parse_image_config(nlohmann::json::object()));  // no "config" at all
}

TEST(ImageRunConfigParse, WrongTypesAreRefused) {
  for (const char* bad :
       {R"({"config": {"Cmd": "sh"}})", R"({"config": {"Env": [1]}})", R"({"config": {"User": 0}})",
        R"({"config": {"Labels": {"a": 1}}})", R"({"config": []})", "[]"}) {
    auto c = parse_image_config(nlohmann::json::parse(bad));
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().kind, ErrorKind::invalid_argument);
  }
}

}  // namespace
}  // namespace zl
