// The zlayer binary as a user runs it: pull, images, inspect, tag, rmi, prune, save/load and
// login, against the real registry fixture, with archives made and read by skopeo and umoci.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "e2e/pull_env.h"
#include "fixtures/registry.h"
#include "fixtures/store_fixture.h"

namespace zl::testing {
namespace {

using json = nlohmann::json;

class CliImages : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-cli-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    root_ = dir_->path() / "root";
  }

  // Runs `zlayer --root <root> args...`; stdout is a pipe, so zlayer prints no progress.
  SubprocessResult zlayer(std::vector<std::string> args, std::optional<std::string> input = {},
                          const fs::path& root = {}) {
    std::vector<std::string> argv = {ZLAYER_BINARY, "--root", (root.empty() ? root_ : root).string(),
                                     "--auth-config", (dir_->path() / "config.json").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions o;
    o.stdin_data = std::move(input);
    o.timeout = std::chrono::seconds(120);
    auto r = run_process(argv, o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : SubprocessResult{};
  }

  std::string shared(const std::string& name) {
    auto& reg = SharedRegistry::get();
    if (!reg.error().empty()) {
      ADD_FAILURE() << reg.error();
      return "";
    }
    auto d = reg.image(name);
    EXPECT_TRUE(d) << d.error().message;
    return reg.host() + "/" + name;
  }

  std::unique_ptr<TempDir> dir_;
  fs::path root_;
};

TEST_F(CliImages, PullListInspectWithoutATerminalPrintsOnlyTheReference) {
  std::string ref = shared("layered:latest");
  auto r = zlayer({"pull", ref});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ref + "\n");

  auto list = zlayer({"images"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("REPOSITORY"), std::string::npos);
  EXPECT_NE(list.out.find(SharedRegistry::get().host() + "/layered"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("latest"), std::string::npos);

  auto ins = zlayer({"image", "inspect", ref});
  ASSERT_EQ(ins.exit_code, 0) << ins.err;
  json doc = json::parse(ins.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["RootFS"]["Layers"].size(), 3u);
  EXPECT_EQ(doc[0]["Os"], "linux");
  EXPECT_EQ(doc[0]["RepoTags"][0], ref);
  // The top layer whites out data/gone: an overlay whiteout (char device 0/0) in its dir.
  fs::path top = doc[0]["LayerDirs"][2].get<std::string>();
  struct stat st{};
  ASSERT_EQ(::lstat((top / "data/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, 0u);
}

TEST_F(CliImages, TagThenRmiRemovesNamesAndFinallyTheContent) {
  std::string ref = shared("busybox:oci");
  ASSERT_EQ(zlayer({"pull", ref}).exit_code, 0);
  auto t = zlayer({"tag", ref, "example.com/team/app:v1"});
  ASSERT_EQ(t.exit_code, 0) << t.err;

  auto ins = zlayer({"image", "inspect", "example.com/team/app:v1"});
  ASSERT_EQ(ins.exit_code, 0) << ins.err;
  std::string id = json::parse(ins.out)[0]["Id"];
  fs::path layer = json::parse(ins.out)[0]["LayerDirs"][0].get<std::string>();
  ASSERT_TRUE(fs::exists(layer / "bin/busybox"));

  auto first = zlayer({"rmi", ref});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("Untagged: " + ref), std::string::npos);
  EXPECT_EQ(first.out.find("Deleted:"), std::string::npos) << "still named example.com/team/app:v1";
  EXPECT_TRUE(fs::exists(layer / "bin/busybox"));

  // By id prefix, the way users copy it out of `zlayer images`.
  auto second = zlayer({"rmi", id.substr(7, 12)});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("Deleted: " + id), std::string::npos) << second.out;
  EXPECT_FALSE(fs::exists(layer));
  EXPECT_EQ(zlayer({"images", "-q"}).out, "");
}

TEST_F(CliImages, BadInputGivesOneClearLineAndChangesNothing) {
  auto bad = zlayer({"pull", "Busybox:latest"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.err.starts_with("zlayer: ")) << bad.err;
  EXPECT_NE(bad.err.find("Busybox"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;

  ASSERT_EQ(zlayer({"pull", shared("busybox:oci")}).exit_code, 0);
  auto before = tree_listing(root_);
  auto missing = zlayer({"rmi", "nosuch:tag"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  auto never = zlayer({"pull", "--policy", "never", SharedRegistry::get().host() + "/absent:1"});
  EXPECT_EQ(never.exit_code, 1);
  auto policy = zlayer({"pull", "--policy", "sometimes", shared("busybox:oci")});
  EXPECT_EQ(policy.exit_code, 1);
  EXPECT_NE(policy.err.find("sometimes"), std::string::npos) << policy.err;
  EXPECT_EQ(tree_listing(root_), before);
}

TEST_F(CliImages, SaveIsReadBySkopeoAndLoadsBackIntoAnotherStore) {
  std::string ref = shared("layered:latest");
  ASSERT_EQ(zlayer({"pull", ref}).exit_code, 0);
  fs::path archive = dir_->path() / "saved.tar";
  auto s = zlayer({"save", "-o", archive.string(), ref});
  ASSERT_EQ(s.exit_code, 0) << s.err;

  // An independent reader of OCI archives agrees with what we wrote.
  auto inspect = run_process({"skopeo", "inspect", "oci-archive:" + archive.string()});
  ASSERT_TRUE(inspect);
  ASSERT_EQ(inspect->exit_code, 0) << inspect->err;
  EXPECT_EQ(json::parse(inspect->out)["Layers"].size(), 3u);

  fs::path other = dir_->path() / "other-root";
  auto l = zlayer({"load", "-i", archive.string()}, {}, other);
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.out, "Loaded image: " + ref + "\n");
  auto a = json::parse(zlayer({"image", "inspect", ref}).out)[0];
  auto b = json::parse(zlayer({"image", "inspect", ref}, {}, other).out)[0];
  EXPECT_EQ(a["Id"], b["Id"]);
  EXPECT_EQ(a["RootFS"], b["RootFS"]);
}

TEST_F(CliImages, LoadsDockerArchivesAndOciLayoutsWrittenBySkopeoAndUmoci) {
  fs::path layout = dir_->path() / "layout";
  auto made = run_process({"bash", std::string(ZLAYER_SOURCE_DIR) + "/scripts/make-demo-image.sh", layout.string(), "1.0"});
  ASSERT_TRUE(made);
  ASSERT_EQ(made->exit_code, 0) << made->err;

  // An OCI layout directory from umoci: its ref name is only a tag, so --name gives the repository.
  auto dir_load = zlayer({"load", "-i", layout.string(), "--name", "demo/busybox"});
  ASSERT_EQ(dir_load.exit_code, 0) << dir_load.err;
  EXPECT_EQ(dir_load.out, "Loaded image: docker.io/demo/busybox:1.0\n");

  // A legacy `docker save` archive written by skopeo.
  fs::path docker_tar = dir_->path() / "docker.tar";
  auto copy = run_process({"skopeo", "copy", "-q", "oci:" + layout.string() + ":1.0",
                           "docker-archive:" + docker_tar.string() + ":example.org/tools/box:2"});
  ASSERT_TRUE(copy);
  ASSERT_EQ(copy->exit_code, 0) << copy->err;
  auto docker_load = zlayer({"load", "-i", docker_tar.string()});
  ASSERT_EQ(docker_load.exit_code, 0) << docker_load.err;
  EXPECT_EQ(docker_load.out, "Loaded image: example.org/tools/box:2\n");

  auto one = json::parse(zlayer({"image", "inspect", "demo/busybox:1.0"}).out)[0];
  auto two = json::parse(zlayer({"image", "inspect", "example.org/tools/box:2"}).out)[0];
  EXPECT_EQ(one["RootFS"], two["RootFS"]) << "same layer content, same diff-ids";
  EXPECT_EQ(one["LayerDirs"], two["LayerDirs"]) << "the layer is unpacked once and shared";
  EXPECT_TRUE(fs::exists(fs::path(one["LayerDirs"][0].get<std::string>()) / "bin/busybox"));

  // A truncated archive is refused, and nothing new is named.
  fs::path cut = dir_->path() / "cut.tar";
  fs::copy_file(docker_tar, cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  auto names_before = zlayer({"images", "--format", "json"}).out;
  auto bad = zlayer({"load", "-i", cut.string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.err.starts_with("zlayer: load ")) << bad.err;
  EXPECT_EQ(zlayer({"images", "--format", "json"}).out, names_before);
}

TEST_F(CliImages, LoginWritesAPrivateConfigAndPullsWithIt) {
  auto reg = TestRegistry::start({.basic_auth = Credentials{"alice", "s3cret"}});
  ASSERT_TRUE(reg) << reg.error().message;
  auto pushed = push_busybox_image((*reg)->host() + "/private/box:1", {.creds = Credentials{"alice", "s3cret"}});
  ASSERT_TRUE(pushed) << pushed.error().message;
  std::string ref = (*reg)->host() + "/private/box:1";

  auto anon = zlayer({"pull", ref});
  EXPECT_EQ(anon.exit_code, 1);
  EXPECT_NE(anon.err.find("requires a login"), std::string::npos) << anon.err;

  auto wrong = zlayer({"login", "-u", "alice", "--password-stdin", (*reg)->host()}, "nope\n");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_->path() / "config.json"));

  auto ok = zlayer({"login", "-u", "alice", "--password-stdin", (*reg)->host()}, "s3cret\n");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  struct stat st{};
  ASSERT_EQ(::stat((dir_->path() / "config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto pull = zlayer({"pull", ref});
  EXPECT_EQ(pull.exit_code, 0) << pull.err;
  auto out = zlayer({"logout", (*reg)->host()});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(zlayer({"pull", "--policy", "always", ref}).exit_code, 1);
}

TEST_F(CliImages, PruneReportsWhatItFrees) {
  ASSERT_EQ(zlayer({"pull", shared("busybox:oci")}).exit_code, 0);
  auto nothing = zlayer({"image", "prune"});
  ASSERT_EQ(nothing.exit_code, 0) << nothing.err;
  EXPECT_NE(nothing.out.find("Deleted 0 blobs and 0 layers"), std::string::npos) << nothing.out;
}

}  // namespace
}  // namespace zl::testing
