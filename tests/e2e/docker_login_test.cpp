// `docker login` through zlayer's Docker API against a registry with htpasswd auth: the login is
// checked by the registry, and the credentials the CLI then sends with a pull are used.
#include "fixtures/docker_cli.h"
#include "fixtures/registry.h"
#include "fixtures/test_images.h"

namespace zl::testing {
namespace {

const Credentials kUser{"alice", "correct horse"};

TEST_F(DockerApi, LoginChecksCredentialsAndPullsUseThem) {
  auto reg = TestRegistry::start({.basic_auth = kUser});
  ASSERT_TRUE(reg) << reg.error().message;
  std::string host = (*reg)->host(), ref = host + "/private/busybox:1";
  ASSERT_TRUE(push_busybox_image(ref, {.creds = kUser}));

  auto anonymous = docker({"pull", ref});
  EXPECT_NE(anonymous.exit_code, 0);
  auto wrong = docker({"login", "-u", "alice", "--password-stdin", host}, "wrong\n");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("login attempt to http://" + host + "/v2/ failed with status: 401 Unauthorized"),
            std::string::npos)
      << wrong.err;
  auto good = docker({"login", "-u", "alice", "--password-stdin", host}, "correct horse\n");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("Login Succeeded"), std::string::npos) << good.out;

  // The CLI keeps the login and sends it with the pull (X-Registry-Auth).
  auto pulled = docker({"pull", ref});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
  EXPECT_NE(zlayer({"images"}).out.find(host + "/private/busybox"), std::string::npos);

  auto py = python(R"PY(
import docker, sys
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
print(c.login(username="alice", password="correct horse", registry=sys.argv[2], reauth=True)["Status"])
try:
    c.login(username="alice", password="nope", registry=sys.argv[2], reauth=True)
    print("accepted")
except docker.errors.APIError as e:
    print(e.status_code)
)PY",
                   {host});
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "Login Succeeded\n401\n");
}

}  // namespace
}  // namespace zl::testing
