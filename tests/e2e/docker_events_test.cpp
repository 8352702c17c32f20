// `docker events`: container lifecycle and image events as the runtime and the image handlers
// record them, replayed between --since and --until, filtered, and followed (docker-py).
#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

std::string unix_now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  return fmt::format("{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
}

TEST_F(DockerApi, EventsReportLifecycleAndImages) {
  std::string since = unix_now();
  ASSERT_EQ(docker({"run", "-d", "--name", "ev", "busybox:1.0", "sleep", "1000"}).exit_code, 0);
  ASSERT_EQ(docker({"rename", "ev", "ev2"}).exit_code, 0);
  ASSERT_EQ(docker({"kill", "ev2"}).exit_code, 0);
  for (int i = 0; i < 50 && docker({"inspect", "-f", "{{.State.Status}}", "ev2"}).out != "exited\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(docker({"rm", "ev2"}).exit_code, 0);
  EXPECT_EQ(docker({"run", "--rm", "--name", "short", "busybox:1.0", "sh", "-c", "exit 3"}).exit_code, 3);
  ASSERT_EQ(docker({"tag", "busybox:1.0", "ev/box:1"}).exit_code, 0);
  ASSERT_EQ(docker({"rmi", "ev/box:1"}).exit_code, 0);
  // zlayer's own image commands are in the same log.
  ASSERT_EQ(zlayer({"tag", "busybox:1.0", "native/box:2"}).exit_code, 0);
  ASSERT_EQ(zlayer({"rmi", "native/box:2"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the daemon's pass notices the last exit
  std::string until = unix_now();

  auto all = docker({"events", "--since", since, "--until", until, "--format",
                     "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  std::vector<std::string> want = {"container create ev",    "container start ev",    "container rename ev2",
                                   "container kill ev2",     "container die ev2 137", "container destroy ev2",
                                   "container create short", "container start short", "container die short 3",
                                   "container destroy short", "image tag ev/box:1",   "image untag ev/box:1",
                                   "image tag native/box:2",  "image untag native/box:2"};
  size_t at = 0;
  for (const auto& w : want) {  // in this order (other lines may come between)
    auto found = all.out.find(w + "\n", at);
    EXPECT_NE(found, std::string::npos) << "missing \"" << w << "\" after offset " << at << " in:\n" << all.out;
    if (found != std::string::npos) at = found;
  }
  auto dies = docker({"events", "--since", since, "--until", until, "--filter", "event=die", "--filter",
                      "container=short", "--format", "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}"});
  EXPECT_EQ(dies.out, "short 3\n") << dies.err;

  // Followed: a die that happens after the client started listening.
  auto py = python(R"PY(
import docker, sys, threading, time
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
events = c.events(decode=True, since=time.time(), filters={"type": "container", "event": "die"})
threading.Timer(0.5, lambda: c.containers.run("busybox:1.0", ["sh", "-c", "exit 5"], remove=True)).start()
e = next(events)
print(e["Actor"]["Attributes"]["exitCode"], e["status"], e["Type"])
events.close()
)PY");
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "5 die container\n");
}

}  // namespace
}  // namespace zl::testing
