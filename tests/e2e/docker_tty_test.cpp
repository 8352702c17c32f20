// `docker run -it` with a terminal size: the CLI runs under script(1) for a tty of a known size,
// and the container's pty (resized through conmon's ctl fifo) has that size.
#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

TEST_F(DockerApi, RunItResizesTheContainersTerminal) {
  SubprocessOptions o;
  o.env = env();
  o.timeout = std::chrono::seconds(60);
  auto r = run_process({"script", "-qec",
                        "stty rows 33 cols 77; docker run -it --rm busybox:1.0 sh -c 'sleep 1; stty size'",
                        "/dev/null"},
                       o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_NE(r->out.find("33 77"), std::string::npos) << r->out;

  // The API call by itself, on a detached container with a tty.
  auto py = python(R"PY(
import docker, sys
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
ctr = c.containers.run("busybox:1.0", ["sleep", "1000"], tty=True, detach=True, name="tty")
ctr.resize(height=21, width=55)
print(ctr.exec_run(["sh", "-c", "stty size < /dev/console"]).output.decode(), end="")
plain = c.containers.run("busybox:1.0", ["sleep", "1000"], detach=True, name="plain")
try:
    plain.resize(height=21, width=55)
except docker.errors.APIError as e:
    print(e.status_code)
ctr.remove(force=True)
plain.remove(force=True)
)PY");
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "21 55\n409\n");
}

TEST_F(DockerApi, ExecWithStdinInteractiveAndPiped) {
  ASSERT_EQ(docker({"run", "-d", "--name", "box", "busybox:1.0", "sleep", "1000"}).exit_code, 0);
  SubprocessOptions o;
  o.env = env();
  o.timeout = std::chrono::seconds(60);
  // Input typed into the exec's shell comes back through its pty, at the terminal's size.
  // (The CLI sends the size just after the start: the shell waits a moment before it looks.)
  o.stdin_data = "sleep 1; stty size; echo typed-$((40 + 2)); exit 7\n";
  auto r = run_process(
      {"script", "-qec", "stty rows 29 cols 91; docker exec -it box sh", "/dev/null"}, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 7) << r->out << r->err;
  EXPECT_NE(r->out.find("29 91"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("typed-42"), std::string::npos) << r->out;
  // exec -i without a tty: the process reads the client's input to its end.
  auto piped = docker({"exec", "-i", "box", "sh", "-c", "tr a-z A-Z; exit 3"}, "piped input\n");
  EXPECT_EQ(piped.exit_code, 3) << piped.err;
  EXPECT_EQ(piped.out, "PIPED INPUT\n");
  ASSERT_EQ(docker({"rm", "-f", "box"}).exit_code, 0);
}

}  // namespace
}  // namespace zl::testing
