// `docker rename` and `zlayer rename`: one runtime call behind both; names stay unique, the old
// name is free at once, and the container answers to its new name on its network.
#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

TEST_F(DockerApi, RenameKeepsNamesUnique) {
  ASSERT_EQ(docker({"run", "-d", "--name", "first", "busybox:1.0", "sleep", "1000"}).exit_code, 0);
  ASSERT_EQ(docker({"create", "--name", "second", "busybox:1.0", "true"}).exit_code, 0);

  auto taken = docker({"rename", "first", "second"});
  EXPECT_NE(taken.exit_code, 0);
  EXPECT_NE(taken.err.find("already in use"), std::string::npos) << taken.err;
  auto missing = docker({"rename", "nosuch", "third"});
  EXPECT_NE(missing.err.find("No such container: nosuch"), std::string::npos) << missing.err;
  auto bad = docker({"rename", "first", "no/slash"});
  EXPECT_NE(bad.exit_code, 0);

  auto renamed = docker({"rename", "first", "renamed"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(docker({"inspect", "-f", "{{.Name}} {{.State.Status}}", "renamed"}).out, "/renamed running\n");
  EXPECT_NE(docker({"inspect", "first"}).exit_code, 0);
  EXPECT_NE(zlayer({"ps"}).out.find("renamed"), std::string::npos);
  // The old name is free again, and the new one is known to the network's DNS.
  EXPECT_EQ(docker({"create", "--name", "first", "busybox:1.0", "true"}).exit_code, 0);
  auto ping = docker({"run", "--rm", "busybox:1.0", "ping", "-c1", "-W2", "renamed"});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;

  // The native command is the same runtime call.
  auto native = zlayer({"rename", "renamed", "native"});
  EXPECT_EQ(native.exit_code, 0) << native.err;
  EXPECT_EQ(docker({"ps", "--format", "{{.Names}}"}).out, "native\n");
  auto native_taken = zlayer({"rename", "native", "second"});
  EXPECT_NE(native_taken.exit_code, 0);
  EXPECT_NE(native_taken.err.find("already in use"), std::string::npos) << native_taken.err;
  EXPECT_EQ(docker({"rm", "-f", "native", "first", "second"}).exit_code, 0);
}

}  // namespace
}  // namespace zl::testing
