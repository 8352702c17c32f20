// `docker save` / `docker load` through zlayer's Docker API: docker's archive (OCI layout plus
// manifest.json) out, and back in from either form; the images land in zlayer's own store.
#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

TEST_F(DockerApi, SaveAndLoadRoundTrip) {
  fs::path one = dir_->path() / "one.tar";
  auto saved = docker({"save", "-o", one.string(), "busybox:1.0"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  auto listing = run_process({"tar", "tf", one.string()});
  ASSERT_TRUE(listing);
  for (const char* f : {"oci-layout", "index.json", "manifest.json"})
    EXPECT_NE(listing->out.find(f), std::string::npos) << listing->out;

  // Out of the store and back from the docker archive.
  ASSERT_EQ(docker({"rmi", "busybox:1.0"}).exit_code, 0);
  EXPECT_EQ(zlayer({"images", "-q"}).out, "");
  auto loaded = docker({"load", "-i", one.string()});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(loaded.out, "Loaded image: busybox:1.0\n");
  EXPECT_NE(zlayer({"images"}).out.find("busybox"), std::string::npos);
  EXPECT_EQ(docker({"run", "--rm", "busybox:1.0", "echo", "ok"}).out, "ok\n");

  // Through a pipe, as `docker save x | docker load` is mostly used.
  SubprocessOptions o;
  o.env = env();
  auto piped = run_process({"sh", "-c", "docker save busybox:1.0 | docker load"}, o);
  ASSERT_TRUE(piped);
  EXPECT_EQ(piped->exit_code, 0) << piped->err;
  EXPECT_EQ(piped->out, "Loaded image: busybox:1.0\n");

  // An OCI archive without docker's manifest.json is read too.
  fs::path oci = dir_->path() / "oci.tar";
  fs::copy_file(one, oci);
  ASSERT_EQ(run_process({"tar", "--delete", "-f", oci.string(), "manifest.json"})->exit_code, 0);
  ASSERT_EQ(docker({"rmi", "busybox:1.0"}).exit_code, 0);
  auto from_oci = docker({"load", "-i", oci.string()});
  EXPECT_EQ(from_oci.exit_code, 0) << from_oci.err;
  EXPECT_EQ(docker({"images", "--format", "{{.Repository}}:{{.Tag}}"}).out, "busybox:1.0\n");

  // Several images in one archive (GET /images/get?names=...).
  ASSERT_EQ(docker({"tag", "busybox:1.0", "example.com/team/box:2"}).exit_code, 0);
  fs::path two = dir_->path() / "two.tar";
  ASSERT_EQ(docker({"save", "-o", two.string(), "busybox:1.0", "example.com/team/box:2"}).exit_code, 0);
  ASSERT_EQ(docker({"rmi", "busybox:1.0", "example.com/team/box:2"}).exit_code, 0);
  auto both = docker({"load", "-i", two.string()});
  EXPECT_EQ(both.out, "Loaded image: busybox:1.0\nLoaded image: example.com/team/box:2\n") << both.err;

  auto missing = docker({"save", "-o", (dir_->path() / "x.tar").string(), "nosuch"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("No such image: nosuch"), std::string::npos) << missing.err;

  auto py = python(R"PY(
import docker, sys
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
data = b"".join(c.images.get("busybox:1.0").save())
c.images.remove("example.com/team/box:2")
c.images.remove("busybox:1.0")
print(sorted(t for i in c.images.load(data) for t in i.tags))
)PY");
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "['busybox:1.0']\n");
}

}  // namespace
}  // namespace zl::testing
