// Image reference parsing: every accepted form and every rejection, as a table.
#include <gtest/gtest.h>

#include "image/reference.h"

namespace zl {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Good {
  std::string input, registry, repository, tag, digest, str, familiar;
};

TEST(Reference, ParsesEveryForm) {
  const Good cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest",
       "busybox:latest"},
      {"library/busybox:1.36", "docker.io", "library/busybox", "1.36", "", "docker.io/library/busybox:1.36",
       "busybox:1.36"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest",
       "busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest", "busybox:latest"},
      {"bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", "", "docker.io/bitnami/redis:7.2",
       "bitnami/redis:7.2"},
      {"host:5000/ns/repo:tag", "host:5000", "ns/repo", "tag", "", "host:5000/ns/repo:tag",
       "host:5000/ns/repo:tag"},
      {"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", "", "127.0.0.1:5000/busybox:latest",
       "127.0.0.1:5000/busybox:latest"},
      {"localhost/repo", "localhost", "repo", "latest", "", "localhost/repo:latest", "localhost/repo:latest"},
      {"localhost:5000/a/b/c:v1.0-rc_1", "localhost:5000", "a/b/c", "v1.0-rc_1", "",
       "localhost:5000/a/b/c:v1.0-rc_1", "localhost:5000/a/b/c:v1.0-rc_1"},
      {"ghcr.io/org/my-app__x.y", "ghcr.io", "org/my-app__x.y", "latest", "",
       "ghcr.io/org/my-app__x.y:latest", "ghcr.io/org/my-app__x.y:latest"},
      {"[::1]:5000/app:v2", "[::1]:5000", "app", "v2", "", "[::1]:5000/app:v2", "[::1]:5000/app:v2"},
      {"repo@sha256:" + kHex, "docker.io", "library/repo", "", "sha256:" + kHex,
       "docker.io/library/repo@sha256:" + kHex, "repo@sha256:" + kHex},
      {"repo:tag@sha256:" + kHex, "docker.io", "library/repo", "tag", "sha256:" + kHex,
       "docker.io/library/repo:tag@sha256:" + kHex, "repo:tag@sha256:" + kHex},
      {"busybox:" + std::string(128, 'a'), "docker.io", "library/busybox", std::string(128, 'a'), "",
       "docker.io/library/busybox:" + std::string(128, 'a'), "busybox:" + std::string(128, 'a')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = Reference::parse(c.input);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->registry, c.registry);
    EXPECT_EQ(r->repository, c.repository);
    EXPECT_EQ(r->tag, c.tag);
    EXPECT_EQ(r->digest ? r->digest->str() : "", c.digest);
    EXPECT_EQ(r->str(), c.str);
    EXPECT_EQ(r->familiar(), c.familiar);
    // The normalized form parses back to the same reference.
    auto again = Reference::parse(r->str());
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, *r);
  }
}

TEST(Reference, ApiHostAndManifestRef) {
  auto hub = *Reference::parse("busybox");
  EXPECT_EQ(hub.api_host(), "registry-1.docker.io");
  EXPECT_EQ(hub.manifest_ref(), "latest");
  auto local = *Reference::parse("127.0.0.1:5000/a:b@sha256:" + kHex);
  EXPECT_EQ(local.api_host(), "127.0.0.1:5000");
  EXPECT_EQ(local.manifest_ref(), "sha256:" + kHex);
  auto pinned = hub.with_digest(*Digest::parse("sha256:" + kHex));
  EXPECT_EQ(pinned.str(), "docker.io/library/busybox@sha256:" + kHex);
}

TEST(ParseRegistry, NormalizesWhatLoginIsGiven) {
  EXPECT_EQ(*parse_registry("localhost:5000"), "localhost:5000");
  EXPECT_EQ(*parse_registry("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(*parse_registry("Registry-1.Docker.io"), "docker.io");
  EXPECT_EQ(*parse_registry("http://127.0.0.1:5000"), "127.0.0.1:5000");
  for (const char* bad : {"", "https://", "host:", "host:abc", "bad_host"}) {
    auto r = parse_registry(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().message.starts_with(fmt::format("invalid registry \"{}\": ", bad)))
        << r.error().message;
  }
}

struct Bad {
  std::string input, error_part;
};

TEST(Reference, RejectsWithPreciseErrors) {
  const Bad cases[] = {
      {"", "empty image name"},
      {"Busybox", "must be lowercase"},
      {"library/BusyBox:1", "must be lowercase"},
      {"busybox:", "empty tag"},
      {"busybox:bad/tag", "invalid port \"bad\""},
      {"busybox:-tag", "must start with a letter, digit or '_'"},
      {"busybox:t@g", "invalid digest"},
      {"busybox:tag!", "contains '!'"},
      {"busybox:" + std::string(129, 'a'), "tag is 129 characters long (at most 128)"},
      {"busybox@sha256:abc", "sha256 needs 64 hex digits"},
      {"busybox@sha256:" + std::string(64, 'G'), "not a lowercase hex digit"},
      {"busybox@md5:" + kHex, "unsupported digest algorithm"},
      {"busybox@", "invalid digest"},
      {"@sha256:" + kHex, "missing image name"},
      {"busybox::latest", "contains \"::\""},
      {"a@b@c", "more than one '@'"},
      {"host:5000/", "empty repository name"},
      {"host:/repo", "empty port"},
      {"host:99999/repo", "invalid port"},
      {"host:5x/repo", "invalid port"},
      {"-host.io/repo", "must not start or end with '-'"},
      {"a..b.io/repo", "empty name between dots"},
      {"ns//repo", "empty path component"},
      {"ns/repo-", "must start and end with a lowercase letter or digit"},
      {"ns/re___po", "misplaced '_'"},
      {"ns/re$po", "contains '$'"},
      {"bus box", "contains whitespace"},
      {"[::1/repo", "unclosed '['"},
      {std::string(250, 'a') + "/" + std::string(10, 'b'), "at most 255"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = Reference::parse(c.input);
    ASSERT_FALSE(r) << "parsed as " << r->str();
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(r.error().message.find("invalid reference \"" + c.input + "\""), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(c.error_part), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace zl
