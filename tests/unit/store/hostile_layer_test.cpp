// Hostile layers: each is refused with invalid_argument naming the entry, and a canary
// directory beside the unpack root is left exactly as it was.
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <functional>
#include <map>
#include <set>

#include "store/layer_unpack.h"
#include "unit/store/tar_builder.h"

namespace zl {
namespace {

using namespace zl::test;

struct HostileCase {
  std::string name;
  // Builds the entries; gets the canary's absolute path.
  std::function<std::vector<TarEntry>(const std::string& canary)> entries;
  std::string refused_entry;  // the entry the error must name ("{canary}" stands for its path)
  std::string reason;         // a phrase the error must contain
};

void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << c.name;
}

// Everything under dir: path -> type and content, xattrs included, to compare before/after.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string what = std::to_string(static_cast<int>(e.symlink_status().type()));
    if (e.is_regular_file()) what += ":" + *read_file(e.path());
    char buf[4096];
    ssize_t n = ::llistxattr(e.path().c_str(), buf, sizeof buf);
    if (n > 0) what += ":x" + std::string(buf, static_cast<size_t>(n));
    out[fs::relative(e.path(), dir).string()] = what;
  }
  return out;
}

class HostileLayerTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileLayerTest, RefusedAndNothingOutsideTouched) {
  const HostileCase& c = GetParam();
  auto base = TempDir::create(fs::temp_directory_path(), "zl-hostile-test-");
  ASSERT_TRUE(base);
  fs::path canary = base->path() / "canary";
  fs::path dest = base->path() / "layer";
  fs::create_directories(canary / "sub");
  ASSERT_TRUE(write_file_atomic(canary / "keep", "safe"));
  fs::create_directory(dest);
  auto before = snapshot(base->path() / "canary");
  std::string refused = c.refused_entry;
  if (refused.starts_with("{canary}")) refused.replace(0, 8, canary.string());

  for (auto comp : {Compression::none, Compression::gzip}) {
    ASSERT_TRUE(
        write_file_atomic(base->path() / "blob", compress(make_tar(c.entries(canary.string())), comp)));
    auto stats = unpack_layer(base->path() / "blob", dest);
    ASSERT_FALSE(stats) << c.name << ": was accepted";
    EXPECT_EQ(stats.error().kind, ErrorKind::invalid_argument) << stats.error().message;
    EXPECT_NE(stats.error().message.find("refused layer entry \"" + refused + "\""), std::string::npos)
        << stats.error().message;
    EXPECT_NE(stats.error().message.find(c.reason), std::string::npos) << stats.error().message;
    EXPECT_EQ(snapshot(base->path() / "canary"), before) << c.name;
    std::set<std::string> top;
    for (const auto& e : fs::directory_iterator(base->path())) top.insert(e.path().filename().string());
    EXPECT_EQ(top, (std::set<std::string>{"blob", "canary", "layer"}));
    EXPECT_EQ(*read_file(canary / "keep"), "safe");
  }
}

std::vector<HostileCase> hostile_cases() {
  using V = std::vector<TarEntry>;
  return {
      {"DotDotPath", [](auto&) { return V{file("../canary/pwned", "x")}; }, "../canary/pwned", "\"..\""},
      {"AbsolutePath", [](auto& c) { return V{file(c + "/pwned", "x")}; }, "{canary}/pwned", "absolute path"},
      {"DeepDotDot",
       [](auto&) {
         return V{dir("a"), file("a/../../canary/pwned", "x")};
       },
       "a/../../canary/pwned", "\"..\""},
      {"DotDotDirectory", [](auto&) { return V{dir("../canary/newdir")}; }, "../canary/newdir/", "\"..\""},
      {"HardlinkEscape", [](auto&) { return V{hardlink("h", "../canary/keep")}; }, "h", "hardlink target"},
      {"HardlinkAbsolute", [](auto& c) { return V{hardlink("h", c + "/keep")}; }, "h", "absolute path"},
      {"SymlinkEscape", [](auto&) { return V{symlink("l", "../canary")}; }, "l",
       "leads out of the layer root"},
      {"SymlinkEscapeDeep",
       [](auto&) {
         return V{dir("a/b"), symlink("a/b/l", "../../../canary")};
       },
       "a/b/l", "leads out of the layer root"},
      {"WriteThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), file("link/pwned", "x")};
       },
       "link/pwned", "goes through symlink \"link\""},
      {"OverwriteThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), file("link/keep", "pwned")};
       },
       "link/keep", "symlink"},
      {"DirectoryThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), dir("link/newdir")};
       },
       "link/newdir/", "symlink"},
      {"HardlinkThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), hardlink("h", "link/keep")};
       },
       "h", "goes through symlink \"link\""},
      {"HardlinkIntoSymlinkedDir",
       [](auto& c) {
         return V{file("f", "x"), symlink("link", c), hardlink("link/h", "f")};
       },
       "link/h", "symlink"},
      {"WhiteoutThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), file("link/.wh.keep", "")};
       },
       "link/.wh.keep", "symlink"},
      {"OpaqueThroughSymlink",
       [](auto& c) {
         return V{symlink("link", c), file("link/.wh..wh..opq", "")};
       },
       "link/.wh..wh..opq", "symlink"},
      {"NestedSymlinkParent",
       [](auto& c) {
         return V{dir("a"), symlink("a/b", c), file("a/b/sub/pwned", "x")};
       },
       "a/b/sub/pwned", "goes through symlink \"a/b\""},
      {"SymlinkReplacesDirectory",
       [](auto& c) {
         return V{dir("d"), symlink("d", c), file("d/pwned", "x")};
       },
       "d/pwned", "symlink"},
      {"InsideSymlinkStillNotTraversed",
       [](auto&) {
         return V{dir("real"), symlink("l", "real"), file("l/x", "x")};
       },
       "l/x", "goes through symlink \"l\""},
      {"WhiteoutDotDot", [](auto&) { return V{file("../canary/.wh.keep", "")}; }, "../canary/.wh.keep",
       "\"..\""},
      {"WhiteoutOfParent", [](auto&) { return V{file("a/.wh...", "")}; }, "a/.wh...", "whiteout"},
  };
}

INSTANTIATE_TEST_SUITE_P(Tars, HostileLayerTest, ::testing::ValuesIn(hostile_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace zl
