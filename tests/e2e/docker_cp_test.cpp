// `docker cp` through zlayer's Docker API (GET/HEAD/PUT /containers/{id}/archive): both ways,
// running and stopped containers, docker's errors, and no way out of the container's root.
#include <fstream>

#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

bool empty_dir(const fs::path& p) {
  return fs::is_directory(p) && fs::directory_iterator(p) == fs::directory_iterator();
}

TEST_F(DockerApi, CpBothWaysOnRunningAndStoppedContainers) {
  fs::path in = dir_->path() / "in.txt";
  write_text(in, "from-host\n");
  ASSERT_EQ(docker({"run", "-d", "--name", "files", "busybox:1.0", "sh", "-c",
                    "mkdir -p /data/sub && echo inner > /data/sub/f && ln -s sub/f /data/link && "
                    "touch /ready && exec sleep 1000"})
                .exit_code,
            0);
  for (int i = 0; i < 50 && docker({"exec", "files", "test", "-f", "/ready"}).exit_code != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // In: a file into a directory; owned by the container's root, as docker does without -a.
  auto cp_in = docker({"cp", in.string(), "files:/tmp/"});
  ASSERT_EQ(cp_in.exit_code, 0) << cp_in.err;
  EXPECT_EQ(docker({"exec", "files", "cat", "/tmp/in.txt"}).out, "from-host\n");
  EXPECT_EQ(docker({"exec", "files", "stat", "-c", "%u:%g", "/tmp/in.txt"}).out, "0:0\n");

  // Out: a directory with a file and a relative symlink in it.
  fs::path out = dir_->path() / "out";
  auto cp_out = docker({"cp", "files:/data", out.string()});
  ASSERT_EQ(cp_out.exit_code, 0) << cp_out.err;
  EXPECT_EQ(slurp(out / "sub" / "f"), "inner\n");
  ASSERT_TRUE(fs::is_symlink(out / "link"));
  EXPECT_EQ(fs::read_symlink(out / "link"), "sub/f");

  auto missing = docker({"cp", "files:/nosuch", (dir_->path() / "x").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("Could not find the file /nosuch in container files"), std::string::npos)
      << missing.err;
  auto no_ctr = docker({"cp", "nosuch:/tmp", (dir_->path() / "x").string()});
  EXPECT_NE(no_ctr.err.find("No such container: nosuch"), std::string::npos) << no_ctr.err;

  // A container that has not run: its files are there all the same.
  ASSERT_EQ(docker({"create", "--name", "later", "busybox:1.0", "cat", "/greeting"}).exit_code, 0);
  auto cp_stopped = docker({"cp", in.string(), "later:/greeting"});
  ASSERT_EQ(cp_stopped.exit_code, 0) << cp_stopped.err;
  auto started = docker({"start", "-a", "later"});
  EXPECT_EQ(started.out, "from-host\n") << started.err;
  // ...and out of it once it has exited, also when its rootfs is not mounted (as after a
  // reboot): mounted for the copy, and unmounted again.
  std::string id = docker({"inspect", "-f", "{{.Id}}", "later"}).out;
  fs::path rootfs = root_ / "containers" / id.substr(0, 64) / "bundle" / "rootfs";
  ASSERT_EQ(run_process({"umount", rootfs.string()})->exit_code, 0);
  auto back = docker({"cp", "later:/greeting", (dir_->path() / "greeting").string()});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(slurp(dir_->path() / "greeting"), "from-host\n");
  EXPECT_NE(run_process({"mountpoint", "-q", rootfs.string()})->exit_code, 0);

  // docker-py: get_archive's stat and tar, put_archive.
  auto py = python(R"PY(
import docker, io, sys, tarfile
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
ctr = c.containers.get("files")
chunks, stat = ctr.get_archive("/data/sub/f")
assert stat["name"] == "f" and stat["size"] == 6, stat
t = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
assert t.extractfile("f").read() == b"inner\n"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"py-data\n"
    info = tarfile.TarInfo("py.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
assert ctr.put_archive("/data", buf.getvalue())
print(ctr.exec_run(["cat", "/data/py.txt"]).output.decode(), end="")
)PY");
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "py-data\n");
  EXPECT_EQ(docker({"rm", "-f", "files", "later"}).exit_code, 0);
}

// docker shows a stopped container's volumes and bind mounts to cp at their targets: a copy in
// lands in the volume (the next run sees it), a read-only mount refuses one, and nothing stays
// mounted afterwards.
TEST_F(DockerApi, CpOfAStoppedContainerSeesItsVolumes) {
  fs::path in = dir_->path() / "in.txt";
  write_text(in, "into-volume\n");
  fs::path host_dir = dir_->path() / "bound";
  fs::create_directories(host_dir);
  write_text(host_dir / "conf", "bound-file\n");
  ASSERT_EQ(docker({"volume", "create", "cpvol"}).exit_code, 0);
  ASSERT_EQ(docker({"create", "--name", "volcp", "-v", "cpvol:/data", "-v", host_dir.string() + ":/etc/app:ro",
                    "busybox:1.0", "cat", "/data/in.txt", "/etc/app/conf"})
                .exit_code,
            0);
  auto cp_in = docker({"cp", in.string(), "volcp:/data/"});
  ASSERT_EQ(cp_in.exit_code, 0) << cp_in.err;
  auto cp_out = docker({"cp", "volcp:/etc/app/conf", (dir_->path() / "conf-out").string()});
  ASSERT_EQ(cp_out.exit_code, 0) << cp_out.err;
  EXPECT_EQ(slurp(dir_->path() / "conf-out"), "bound-file\n");
  EXPECT_NE(docker({"cp", in.string(), "volcp:/etc/app/"}).exit_code, 0);  // read-only
  EXPECT_FALSE(fs::exists(host_dir / "in.txt"));

  auto started = docker({"start", "-a", "volcp"});
  EXPECT_EQ(started.out, "into-volume\nbound-file\n") << started.err;
  // The copy went into the volume, not the container's own layer; nothing is left mounted.
  auto vol = docker({"volume", "inspect", "-f", "{{.Mountpoint}}", "cpvol"});
  std::string mountpoint = vol.out.substr(0, vol.out.find('\n'));
  EXPECT_EQ(slurp(fs::path(mountpoint) / "in.txt"), "into-volume\n");
  auto mounts = slurp("/proc/self/mountinfo");
  EXPECT_EQ(mounts.find(host_dir.string()), std::string::npos);
  EXPECT_EQ(docker({"rm", "-f", "volcp"}).exit_code, 0);
  EXPECT_EQ(docker({"volume", "rm", "cpvol"}).exit_code, 0);
}

TEST_F(DockerApi, CpNeverWritesOutsideTheContainer) {
  fs::path outside = dir_->path() / "outside";
  fs::create_directories(outside);
  fs::path in = dir_->path() / "in.txt";
  write_text(in, "payload\n");
  std::string climb = "../../../../../../../../../.." + outside.string();
  ASSERT_EQ(docker({"run", "-d", "--name", "jail", "busybox:1.0", "sh", "-c",
                    "ln -s " + outside.string() + " /abs && ln -s " + climb + " /rel && touch /ready && " +
                        "exec sleep 1000"})
                .exit_code,
            0);
  for (int i = 0; i < 50 && docker({"exec", "jail", "test", "-f", "/ready"}).exit_code != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Onto symlinks in the container that point at the host's directory: resolved inside the
  // container, where that path does not exist.
  for (const char* dst : {"jail:/abs", "jail:/abs/", "jail:/rel/", "jail:/rel/in.txt"})
    EXPECT_NE(docker({"cp", in.string(), dst}).exit_code, 0) << dst;
  EXPECT_TRUE(empty_dir(outside));

  // Hostile archives: a symlink then a file through it, and a ".." entry.
  auto py = python(R"PY(
import docker, io, sys, tarfile
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
ctr = c.containers.get("jail")
def tar(*members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                t.addfile(info)
            else:
                info.size = 4
                t.addfile(info, io.BytesIO(b"bad\n"))
    return buf.getvalue()
refused = 0
for archive in (tar(("evil", sys.argv[2]), ("evil/pwned", None)),
                tar(("up", "../../../../../../../.." + sys.argv[2]), ("up/pwned", None)),
                tar(("../../../../../../../.." + sys.argv[2] + "/pwned", None),)):
    try:
        ctr.put_archive("/tmp", archive)
    except docker.errors.APIError as e:
        assert e.status_code == 400, e
        refused += 1
print(refused)
)PY",
                   {outside.string()});
  EXPECT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "3\n") << py.err;
  EXPECT_TRUE(empty_dir(outside));
  // The symlink itself went in (it is the container's to resolve), nothing behind it.
  EXPECT_EQ(docker({"exec", "jail", "readlink", "/tmp/evil"}).out, outside.string() + "\n");
  EXPECT_EQ(docker({"rm", "-f", "jail"}).exit_code, 0);
}

}  // namespace
}  // namespace zl::testing
