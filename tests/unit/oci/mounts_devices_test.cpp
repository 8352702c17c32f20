// Mounts (defaults, host files, binds, volumes, tmpfs, overrides, read-only, privileged) and
// devices (host nodes, directories, permissions, privileged).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "oci/devices.h"
#include "oci/mounts.h"
#include "unit/oci/oci_test_util.h"

namespace zl {
namespace {

using json = nlohmann::json;
using test::mount_at;
using Opts = std::vector<std::string>;

TEST(Mounts, DockersDefaults) {
  auto m = build_mounts({}, {}, {});
  ASSERT_TRUE(m) << m.error().message;
  json config = {{"mounts", *m}};
  EXPECT_EQ(m->size(), 7u);
  EXPECT_EQ(mount_at(config, "/proc")["type"], "proc");
  EXPECT_EQ(mount_at(config, "/dev")["type"], "tmpfs");
  EXPECT_EQ(mount_at(config, "/dev/pts")["type"], "devpts");
  EXPECT_EQ(mount_at(config, "/dev/mqueue")["type"], "mqueue");
  EXPECT_TRUE(test::contains(mount_at(config, "/dev/shm")["options"], "size=67108864"));
  EXPECT_TRUE(test::contains(mount_at(config, "/sys")["options"], "ro"));
  EXPECT_EQ(mount_at(config, "/sys/fs/cgroup")["type"], "cgroup");
  EXPECT_TRUE(test::contains(mount_at(config, "/sys/fs/cgroup")["options"], "ro"));
}

TEST(Mounts, BindsVolumesAndHostFiles) {
  test::TestRootfs dir;
  fs::path data = dir.base() / "data", hosts = dir.base() / "hosts";
  fs::create_directories(data);
  ASSERT_TRUE(write_file_atomic(hosts, "127.0.0.1 localhost\n"));
  std::vector<Mount> user = {
      {.type = Mount::Type::bind, .source = data.string(), .target = "/srv/data/sub", .read_only = true},
      {.type = Mount::Type::volume, .source = data.string(), .target = "/srv/data/"},
      {.type = Mount::Type::bind,
       .source = data.string(),
       .target = "/shared",
       .options = {"rshared", "bind"}},
  };
  auto m = build_mounts(user, {.hosts = hosts}, {});
  ASSERT_TRUE(m) << m.error().message;
  json config = {{"mounts", *m}};
  EXPECT_EQ(mount_at(config, "/srv/data/sub"), json({{"destination", "/srv/data/sub"},
                                                     {"type", "bind"},
                                                     {"source", data.string()},
                                                     {"options", {"rbind", "rprivate", "ro"}}}));
  EXPECT_EQ(mount_at(config, "/srv/data")["options"], json({"rbind", "rprivate"}));
  EXPECT_EQ(mount_at(config, "/shared")["options"], json({"rshared", "bind"}));  // user's choices kept
  EXPECT_EQ(mount_at(config, "/etc/hosts")["source"], hosts.string());
  EXPECT_TRUE(mount_at(config, "/etc/resolv.conf").is_null());  // not prepared: not bound
  // Parents before children: /srv/data comes before /srv/data/sub.
  std::vector<std::string> order;
  for (const auto& x : *m) order.push_back(x["destination"]);
  EXPECT_LT(std::find(order.begin(), order.end(), "/srv/data"),
            std::find(order.begin(), order.end(), "/srv/data/sub"));
}

TEST(Mounts, TmpfsGetsDockersDefaultsWhichOptionsOverride) {
  std::vector<Mount> user = {
      {.type = Mount::Type::tmpfs, .target = "/run"},
      {.type = Mount::Type::tmpfs, .target = "/scratch", .options = {"exec", "size=64m", "size=1g"}}};
  auto m = build_mounts(user, {}, {});
  ASSERT_TRUE(m) << m.error().message;
  json config = {{"mounts", *m}};
  EXPECT_EQ(mount_at(config, "/run"), json({{"destination", "/run"},
                                            {"type", "tmpfs"},
                                            {"source", "tmpfs"},
                                            {"options", {"noexec", "nosuid", "nodev", "rprivate"}}}));
  EXPECT_EQ(mount_at(config, "/scratch")["options"],
            json({"exec", "nosuid", "nodev", "rprivate", "size=1g"}));
}

TEST(Mounts, UserMountsReplaceDefaultsAndHostFiles) {
  test::TestRootfs dir;
  fs::path f = dir.base() / "my-hosts";
  ASSERT_TRUE(write_file_atomic(f, "x"));
  std::vector<Mount> user = {{.type = Mount::Type::tmpfs, .target = "/dev"},
                             {.type = Mount::Type::bind, .source = f.string(), .target = "/etc/hosts"}};
  auto m = build_mounts(user, {.hosts = dir.base() / "other"}, {});
  ASSERT_TRUE(m) << m.error().message;
  json config = {{"mounts", *m}};
  EXPECT_EQ(mount_at(config, "/dev")["source"], "tmpfs");
  EXPECT_TRUE(
      test::contains(mount_at(config, "/dev")["options"], "noexec"));  // the user's tmpfs, not docker's
  EXPECT_TRUE(mount_at(config, "/dev/pts").is_null());                 // a user /dev takes all of /dev/*
  EXPECT_TRUE(mount_at(config, "/dev/shm").is_null());
  EXPECT_EQ(mount_at(config, "/etc/hosts")["source"], f.string());
  int hosts_mounts = 0;
  for (const auto& x : *m) hosts_mounts += x["destination"] == "/etc/hosts";
  EXPECT_EQ(hosts_mounts, 1);
}

TEST(Mounts, ReadOnlyRootfsAndPrivileged) {
  test::TestRootfs dir;
  fs::path hosts = dir.base() / "hosts";
  ASSERT_TRUE(write_file_atomic(hosts, "x"));
  auto ro = build_mounts({}, {.hosts = hosts}, {.read_only_rootfs = true});
  ASSERT_TRUE(ro);
  json config = {{"mounts", *ro}};
  EXPECT_TRUE(test::contains(mount_at(config, "/etc/hosts")["options"], "ro"));
  EXPECT_FALSE(test::contains(mount_at(config, "/proc")["options"], "ro"));
  EXPECT_FALSE(test::contains(mount_at(config, "/dev/shm")["options"], "ro"));

  auto priv = build_mounts({}, {}, {.privileged = true});
  ASSERT_TRUE(priv);
  config = {{"mounts", *priv}};
  EXPECT_FALSE(test::contains(mount_at(config, "/sys")["options"], "ro"));
  EXPECT_FALSE(test::contains(mount_at(config, "/sys/fs/cgroup")["options"], "ro"));
}

TEST(Mounts, BadMountsAreRefused) {
  test::TestRootfs dir;
  std::string src = dir.base().string();
  struct Case {
    Mount mount;
    ErrorKind kind;
  };
  for (const Case& c : std::vector<Case>{
           {{.type = Mount::Type::bind, .source = src, .target = "relative"}, ErrorKind::invalid_argument},
           {{.type = Mount::Type::bind, .source = src, .target = "/"}, ErrorKind::invalid_argument},
           {{.type = Mount::Type::bind, .source = "relative", .target = "/x"}, ErrorKind::invalid_argument},
           {{.type = Mount::Type::volume, .source = "myvolume", .target = "/x"}, ErrorKind::invalid_argument},
           {{.type = Mount::Type::bind, .source = src + "/absent", .target = "/x"}, ErrorKind::not_found},
       }) {
    auto m = build_mounts({c.mount}, {}, {});
    ASSERT_FALSE(m) << c.mount.target;
    EXPECT_EQ(m.error().kind, c.kind) << m.error().message;
  }
  auto dup = build_mounts(
      {{.type = Mount::Type::tmpfs, .target = "/a"}, {.type = Mount::Type::tmpfs, .target = "/a/"}}, {}, {});
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("duplicate mount point \"/a\""), std::string::npos);
}

TEST(MountOptions, LastOfAPairWins) {
  EXPECT_EQ(merge_mount_options({"ro", "nosuid", "rw", "size=1", "mode=755", "size=2", "suid"}),
            (Opts{"rw", "suid", "size=2", "mode=755"}));
}

TEST(Devices, HostNodeWithItsNumbers) {
  auto d =
      devices_from_mapping({.host_path = "/dev/null", .container_path = "/dev/mynull", .permissions = "rw"});
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->devices.size(), 1u);
  EXPECT_EQ(d->devices[0]["path"], "/dev/mynull");
  EXPECT_EQ(d->devices[0]["type"], "c");
  EXPECT_EQ(d->devices[0]["major"], 1);
  EXPECT_EQ(d->devices[0]["minor"], 3);
  EXPECT_EQ(d->rules,
            json::parse(R"([{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}])"));
}

TEST(Devices, DirectoryOfDevices) {
  struct stat st {};
  if (::stat("/dev/net/tun", &st) != 0) GTEST_SKIP() << "no /dev/net/tun here";
  auto d = devices_from_mapping({.host_path = "/dev/net", .container_path = "/dev/net"});
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->devices.size(), 1u);
  EXPECT_EQ(d->devices[0]["path"], "/dev/net/tun");
  EXPECT_EQ(d->devices[0]["major"], major(st.st_rdev));
}

TEST(Devices, DefaultRulesThenMappingsAndPrivileged) {
  auto d = build_devices({{.host_path = "/dev/null"}}, false);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->rules[0], json::parse(R"({"allow": false, "access": "rwm"})"));
  EXPECT_EQ(d->rules.back()["access"], "rwm");  // the mapping's allow rule comes after the defaults
  EXPECT_EQ(d->devices[0]["path"], "/dev/null");
  EXPECT_TRUE(test::contains(d->rules,
                             json::parse(R"({"allow": true, "type": "c", "major": 136, "access": "rwm"})")));

  auto priv = build_devices({}, true);
  ASSERT_TRUE(priv) << priv.error().message;
  EXPECT_EQ(priv->rules, json::parse(R"([{"allow": true, "access": "rwm"}])"));
  bool has_null = false;
  for (const auto& dev : priv->devices) {
    has_null |= dev["path"] == "/dev/null";
    EXPECT_FALSE(std::string(dev["path"]).starts_with("/dev/pts/")) << dev.dump();
  }
  EXPECT_TRUE(has_null);
}

TEST(Devices, BadMappingsAreRefused) {
  test::TestRootfs dir;
  fs::path plain = dir.base() / "file";
  ASSERT_TRUE(write_file_atomic(plain, "x"));
  EXPECT_EQ(devices_from_mapping({.host_path = "/dev/does-not-exist"}).error().kind, ErrorKind::not_found);
  EXPECT_EQ(devices_from_mapping({.host_path = plain.string()}).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(devices_from_mapping({.host_path = "/dev/null", .permissions = "rwx"}).error().kind,
            ErrorKind::invalid_argument);
  EXPECT_EQ(devices_from_mapping({.host_path = "/dev/null", .permissions = ""}).error().kind,
            ErrorKind::invalid_argument);
  EXPECT_EQ(devices_from_mapping({.host_path = "dev/null"}).error().kind, ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace zl
