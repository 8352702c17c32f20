// Power cut: a state file torn (cut to half, or to nothing) is detected, then repaired or
// reported with an error that names it; never used as if whole. One row per file and damage.
#include <sys/stat.h>
#include <unistd.h>

#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

enum class Damage { half, empty };

enum class Expect {
  repaired,  // the command works, the file is whole again
  reported,  // the command fails (or warns) naming the damage, and the object can be removed
};

struct TornFile {
  const char* label;
  const char* file;  // under the root; {id}: the container's id
  Damage damage;
  Expect expect;
  friend void PrintTo(const TornFile& t, std::ostream* os) { *os << t.label; }
};

const TornFile kFiles[] = {
    {"container_json_half", "containers/{id}/container.json", Damage::half, Expect::reported},
    {"container_json_empty", "containers/{id}/container.json", Damage::empty, Expect::reported},
    {"state_json_half", "containers/{id}/state.json", Damage::half, Expect::repaired},
    {"state_json_empty", "containers/{id}/state.json", Damage::empty, Expect::repaired},
    {"network_record_half", "netns/{id}.json", Damage::half, Expect::reported},
    {"network_record_empty", "netns/{id}.json", Damage::empty, Expect::reported},
    {"volume_json_half", "volumes/keep/volume.json", Damage::half, Expect::reported},
    {"images_json_half", "images.json", Damage::half, Expect::reported},
    {"images_json_empty", "images.json", Damage::empty, Expect::reported},
};

void tear(const fs::path& p, Damage d) {
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
  ASSERT_EQ(::truncate(p.c_str(), d == Damage::half ? st.st_size / 2 : 0), 0) << p;
}

class TornStateFile : public ReliabilityTest, public ::testing::WithParamInterface<TornFile> {};

TEST_P(TornStateFile, IsRepairedOrReportedNeverUsed) {
  const TornFile& t = GetParam();
  ASSERT_EQ(zlayer({"volume", "create", "keep"}).exit_code, 0);
  auto run = zlayer({"run", "-d", "--name", "victim", "-v", "keep:/data", "busybox:1.0", "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string id = run.out.substr(0, 64);
  note_containers();
  std::string rel = t.file;
  if (auto at = rel.find("{id}"); at != std::string::npos) rel.replace(at, 4, id);
  std::string name = fs::path(rel).filename().string();
  tear(root_ / rel, t.damage);

  if (rel.starts_with("containers/")) {
    auto ps = zlayer({"ps", "-a"});
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
    if (t.expect == Expect::repaired) {
      EXPECT_NE(ps.out.find("victim"), std::string::npos) << ps.out << ps.err;
      EXPECT_NE(ps.out.find("Up"), std::string::npos) << "running, as before: " << ps.out;
      auto again = read_file(root_ / rel);
      ASSERT_TRUE(again);
      EXPECT_FALSE(nlohmann::json::parse(*again, nullptr, false).is_discarded()) << "written back whole";
      auto e = zlayer({"exec", "victim", "true"});
      EXPECT_EQ(e.exit_code, 0) << e.err;
    } else {
      EXPECT_EQ(ps.out.find("victim"), std::string::npos) << ps.out;
      EXPECT_NE(ps.err.find(name + " is damaged"), std::string::npos) << "not silently hidden: " << ps.err;
      EXPECT_NE(ps.err.find("zlayer rm -f " + id.substr(0, 12)), std::string::npos) << ps.err;
    }
    auto rm = zlayer({"rm", "-f", t.expect == Expect::repaired ? "victim" : id});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
  } else if (rel.starts_with("netns/")) {
    auto ins = zlayer({"inspect", "victim"});
    EXPECT_NE(ins.err.find("network record of container " + id.substr(0, 12) + " is damaged"), std::string::npos)
        << ins.err;
    auto rm = zlayer({"rm", "-f", "victim"});
    EXPECT_EQ(rm.exit_code, 0) << rm.err;
  } else if (rel.starts_with("volumes/")) {
    auto ins = zlayer({"volume", "inspect", "keep"});
    EXPECT_NE(ins.exit_code, 0);
    EXPECT_NE(ins.err.find("volume.json is damaged"), std::string::npos) << ins.err;
    EXPECT_EQ(zlayer({"rm", "-f", "victim"}).exit_code, 0);
    auto rmv = zlayer({"volume", "rm", "keep"});
    EXPECT_EQ(rmv.exit_code, 0) << "a damaged volume.json does not keep the volume: " << rmv.err;
  } else {  // images.json
    auto images = zlayer({"images"});
    EXPECT_NE(images.exit_code, 0);
    EXPECT_NE(images.err.find("images.json is unreadable"), std::string::npos) << images.err;
    auto r = zlayer({"run", "--rm", "busybox:1.0", "true"});
    EXPECT_NE(r.exit_code, 0) << "an image index that cannot be read is not taken for an empty one";
    EXPECT_NE(r.err.find("images.json is unreadable"), std::string::npos) << r.err;
    EXPECT_EQ(zlayer({"rm", "-f", "victim"}).exit_code, 0);
  }
  expect_no_leaks("after removing the container");
}

INSTANTIATE_TEST_SUITE_P(PowerCut, TornStateFile, ::testing::ValuesIn(kFiles),
                         [](const auto& info) { return std::string(info.param.label); });

// The daemon's SQLite state: a torn database is refused with an error naming it, not replaced
// by an empty one (which would undeploy everything).
class TornStateDb : public ReliabilityTest, public ::testing::WithParamInterface<Damage> {};

TEST_P(TornStateDb, StopsTheDaemonWithAClearError) {
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(deploy(sleepers("kept", 1), "app.zlayer.yml", {"--wait"}).exit_code, 0);
  daemon_->stop();
  daemon_.reset();
  fs::path db = root_ / "agent" / "state.db";
  std::error_code ec;
  fs::remove(db.string() + "-wal", ec);
  fs::remove(db.string() + "-shm", ec);
  tear(db, GetParam());
  SubprocessOptions o;
  o.timeout = std::chrono::seconds(20);
  auto r = run_process(argv({"daemon"}), o);
  ASSERT_TRUE(r);
  EXPECT_NE(r->exit_code, 0) << r->out << r->err;
  EXPECT_FALSE(r->timed_out) << "the daemon ran on a torn state db: " << r->err;
  EXPECT_NE(r->err.find(db.string()), std::string::npos) << r->err;
  // The containers it ran are still there, for a repaired database to adopt.
  EXPECT_NE(zlayer({"ps"}).out.find("kept-app-0"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(PowerCut, TornStateDb, ::testing::Values(Damage::half, Damage::empty),
                         [](const auto& info) { return std::string(info.param == Damage::half ? "half" : "empty"); });

}  // namespace
}  // namespace zl::testing
