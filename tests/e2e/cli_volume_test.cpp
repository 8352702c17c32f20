// Named volumes through the zlayer binary with the real OCI runtime: data outlives containers,
// volume create/ls/inspect/rm/prune as docker shows them, removal refused while in use, copy-up
// of the image's content into a new volume, anonymous volumes going with `rm -v` and `--rm`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "fixtures/container_cli.h"

namespace zl::testing {
namespace {

using json = nlohmann::json;

class CliVolumes : public ContainerCliTest {
 protected:
  void TearDown() override {
    ContainerCliTest::TearDown();  // the containers first: then no volume is in use
    zlayer({"volume", "prune", "-f"});
  }

  fs::path data(const std::string& volume) const { return root_ / "volumes" / volume / "_data"; }

  std::string names() { return zlayer({"volume", "ls", "-q"}).out; }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(CliVolumes, DataWrittenByOneContainerIsReadByTheNext) {
  auto w =
      zlayer({"run", "--rm", "-v", "shared:/data", "busybox:1.0", "sh", "-c", "echo hello > /data/greeting"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(names(), "shared\n") << "created by run, kept by --rm: it has a name";
  EXPECT_EQ(slurp(data("shared") / "greeting"), "hello\n");

  auto r =
      zlayer({"run", "--rm", "-v", "shared:/other/place:ro", "busybox:1.0", "cat", "/other/place/greeting"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  auto ro = zlayer({"run", "--rm", "-v", "shared:/data:ro", "busybox:1.0", "touch", "/data/x"});
  EXPECT_NE(ro.exit_code, 0);
  EXPECT_NE(ro.err.find("Read-only file system"), std::string::npos) << ro.err;

  // Container inspect names the volume and where it lives on the host.
  ASSERT_EQ(zlayer({"create", "--name", "reader", "-v", "shared:/data", "busybox:1.0"}).exit_code, 0);
  auto in = zlayer({"inspect", "reader"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  json m = json::parse(in.out)[0]["Mounts"][0];
  EXPECT_EQ(m["Type"], "volume");
  EXPECT_EQ(m["Name"], "shared");
  EXPECT_EQ(m["Source"], data("shared").string());
  EXPECT_EQ(m["Destination"], "/data");
  EXPECT_EQ(m["Driver"], "local");
  EXPECT_EQ(m["RW"], true);
}

TEST_F(CliVolumes, CreateLsAndInspectAsDockerShowsThem) {
  auto c = zlayer({"volume", "create", "--label", "team=db", "--label", "tier", "dbdata"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "dbdata\n");
  auto again = zlayer({"volume", "create", "dbdata"});
  EXPECT_EQ(again.exit_code, 0) << "create is idempotent: " << again.err;
  EXPECT_EQ(again.out, "dbdata\n");
  auto anon = zlayer({"volume", "create"});
  ASSERT_EQ(anon.exit_code, 0) << anon.err;
  std::string random = anon.out.substr(0, anon.out.size() - 1);
  EXPECT_TRUE(std::regex_match(anon.out, std::regex("[0-9a-f]{64}\n"))) << anon.out;

  auto sorted = random < "dbdata" ? random + "\ndbdata\n" : "dbdata\n" + random + "\n";
  EXPECT_EQ(names(), sorted);
  auto table = zlayer({"volume", "ls"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(table.out.starts_with("DRIVER   VOLUME NAME\n")) << table.out;
  EXPECT_NE(table.out.find("local    dbdata\n"), std::string::npos) << table.out;
  auto list = zlayer({"volume", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out).size(), 2u);

  auto in = zlayer({"volume", "inspect", "dbdata"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  json v = json::parse(in.out);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["Name"], "dbdata");
  EXPECT_EQ(v[0]["Driver"], "local");
  EXPECT_EQ(v[0]["Scope"], "local");
  EXPECT_EQ(v[0]["Mountpoint"], data("dbdata").string());
  EXPECT_EQ(v[0]["Labels"], json({{"team", "db"}, {"tier", ""}}));
  EXPECT_EQ(v[0]["Options"], json::object());
  EXPECT_TRUE(std::regex_match(v[0]["CreatedAt"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << v[0]["CreatedAt"];
  EXPECT_TRUE(fs::is_directory(data("dbdata")));

  auto missing = zlayer({"volume", "inspect", "dbdata", "nosuch"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(json::parse(missing.out).size(), 1u) << "the ones found are still shown";
  EXPECT_EQ(missing.err, "zlayer: no such volume: nosuch\n");
  EXPECT_NE(zlayer({"volume", "create", "--driver", "nfs", "x1"}).exit_code, 0);
}

TEST_F(CliVolumes, RemovingAVolumeInUseFailsAndRemovesNothing) {
  ASSERT_EQ(
      zlayer({"run", "--name", "holder", "-v", "keep:/data", "busybox:1.0", "sh", "-c", "echo x > /data/x"})
          .exit_code,
      0);
  for (const char* force : {"", "-f"}) {
    std::vector<std::string> args = {"volume", "rm"};
    if (*force) args.push_back(force);
    args.push_back("keep");
    auto rm = zlayer(args);
    EXPECT_EQ(rm.exit_code, 1) << force;
    EXPECT_EQ(rm.err, "zlayer: cannot remove volume keep: it is in use by container holder\n") << force;
    EXPECT_EQ(rm.out, "");
  }
  auto prune = zlayer({"volume", "prune", "-f"});
  EXPECT_EQ(prune.out, "Total reclaimed space: 0B\n");
  EXPECT_EQ(names(), "keep\n");
  EXPECT_EQ(slurp(data("keep") / "x"), "x\n");

  // Gone with its container: then it can go.
  ASSERT_EQ(zlayer({"rm", "-v", "holder"}).exit_code, 0);
  EXPECT_EQ(names(), "keep\n") << "rm -v leaves named volumes";
  auto rm = zlayer({"volume", "rm", "keep"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "keep\n");
  EXPECT_EQ(names(), "");
  EXPECT_FALSE(fs::exists(root_ / "volumes" / "keep"));
  auto again = zlayer({"volume", "rm", "keep"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "zlayer: no such volume: keep\n");
  EXPECT_EQ(zlayer({"volume", "rm", "-f", "keep"}).exit_code, 0);
}

TEST_F(CliVolumes, ANewVolumeTakesTheImagesContent) {
  // /etc of the image (passwd, group) is copied into the volume before the first use.
  auto etc =
      zlayer({"run", "--rm", "-v", "etc:/etc", "busybox:1.0", "sh", "-c", "cat /etc/group; id nobody"});
  ASSERT_EQ(etc.exit_code, 0) << etc.err;
  EXPECT_EQ(etc.out,
            "root:x:0:\nnogroup:x:65534:\nuid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
  EXPECT_EQ(slurp(data("etc") / "passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");

  // Symlinks stay links: every applet of /bin runs from the volume.
  auto bin = zlayer(
      {"run", "--rm", "-v", "bin:/bin", "busybox:1.0", "sh", "-c", "ls /bin | wc -l; readlink /bin/ls"});
  ASSERT_EQ(bin.exit_code, 0) << bin.err;
  EXPECT_TRUE(bin.out.ends_with("\nbusybox\n")) << bin.out;
  EXPECT_GT(std::stoi(bin.out), 100);
  EXPECT_TRUE(fs::is_symlink(data("bin") / "ls"));
  EXPECT_EQ(fs::read_symlink(data("bin") / "ls"), "busybox");
  EXPECT_EQ(fs::file_size(data("bin") / "busybox"), fs::file_size("/bin/busybox"));
  struct stat st {};
  ASSERT_EQ(::stat((data("bin") / "busybox").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0111, 0u) << "modes kept";

  // A volume with content keeps it: nothing is copied over what a container left there.
  fs::remove(data("etc") / "group");
  auto later = zlayer({"run", "--rm", "-v", "etc:/etc", "busybox:1.0", "ls", "/etc"});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.out.find("group"), std::string::npos) << later.out;

  // nocopy (docker's option): the new volume starts empty.
  auto nocopy = zlayer({"run", "--rm", "-v", "bare:/etc:nocopy", "busybox:1.0", "ls", "/etc"});
  ASSERT_EQ(nocopy.exit_code, 0) << nocopy.err;
  EXPECT_EQ(nocopy.out.find("passwd"), std::string::npos) << nocopy.out;
  EXPECT_FALSE(fs::exists(data("bare") / "passwd"));
}

TEST_F(CliVolumes, BadNamesAreRejectedAndLeaveNothing) {
  for (const char* bad : {"a", "-dash", "bad name", "x@y"}) {
    auto c = zlayer({"volume", "create", "--", bad});
    EXPECT_EQ(c.exit_code, 1) << bad;
    EXPECT_NE(c.err.find("invalid volume name"), std::string::npos) << c.err;
  }
  auto run = zlayer({"run", "--rm", "-v", "../escape:/data", "busybox:1.0", "true"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err,
            "zlayer: invalid volume name \"../escape\": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ is allowed (to mount "
            "a host "
            "directory, give its absolute path)\n");
  EXPECT_EQ(names(), "");
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
}

TEST_F(CliVolumes, PruneRemovesOnlyUnusedVolumes) {
  ASSERT_EQ(zlayer({"create", "--name", "user", "-v", "used:/data", "busybox:1.0"}).exit_code, 0);
  for (const char* n : {"old1", "old2"}) ASSERT_EQ(zlayer({"volume", "create", n}).exit_code, 0);
  std::ofstream(data("old1") / "blob") << std::string(2048, 'x');

  auto declined = zlayer({"volume", "prune"}, std::string("n\n"));
  EXPECT_EQ(declined.exit_code, 0) << declined.err;
  EXPECT_NE(declined.out.find("Are you sure you want to continue? [y/N]"), std::string::npos) << declined.out;
  EXPECT_EQ(names(), "old1\nold2\nused\n");

  auto prune = zlayer({"volume", "prune"}, std::string("y\n"));
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_NE(prune.out.find("Deleted Volumes:\nold1\nold2\n\nTotal reclaimed space: "), std::string::npos)
      << prune.out;
  EXPECT_EQ(names(), "used\n");
  EXPECT_TRUE(fs::is_directory(data("used")));
}

TEST_F(CliVolumes, AnonymousVolumesGoWithRmVAndRunRm) {
  auto once = zlayer(
      {"run", "--rm", "-v", "/scratch", "busybox:1.0", "sh", "-c", "echo x > /scratch/x; cat /scratch/x"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out, "x\n");
  EXPECT_EQ(names(), "") << "--rm takes the anonymous volume with the container";

  ASSERT_EQ(zlayer({"run", "--name", "anon", "-v", "/scratch", "-v", "named:/named", "busybox:1.0", "true"})
                .exit_code,
            0);
  std::string id = names();
  ASSERT_TRUE(std::regex_match(id, std::regex("([0-9a-f]{64}\nnamed\n)|(named\n[0-9a-f]{64}\n)"))) << id;
  auto in = zlayer({"inspect", "anon"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  json m = json::parse(in.out)[0]["Mounts"][0];
  std::string name = m["Name"];
  EXPECT_NE(id.find(name), std::string::npos);
  EXPECT_EQ(m["Source"], data(name).string());
  auto v = json::parse(zlayer({"volume", "inspect", name}).out)[0];
  EXPECT_EQ(v["Labels"], json({{"com.docker.volume.anonymous", ""}}));

  auto rm = zlayer({"rm", "-v", "anon"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(names(), "named\n") << "rm -v removes anonymous volumes only";
}

TEST_F(CliVolumes, ConcurrentRunsShareOneNewVolume) {
  std::vector<std::thread> runs;
  std::vector<SubprocessResult> results(4);
  for (size_t i = 0; i < results.size(); ++i)
    runs.emplace_back([&, i] {
      results[i] =
          zlayer({"run", "--rm", "-v", "together:/etc", "busybox:1.0", "sh", "-c", "echo $$ >> /etc/log"});
    });
  for (auto& t : runs) t.join();
  for (const auto& r : results) EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(names(), "together\n");
  std::string log = slurp(data("together") / "log");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4) << log;
  EXPECT_TRUE(fs::exists(data("together") / "passwd")) << "copied up once, by the first";
}

}  // namespace
}  // namespace zl::testing
