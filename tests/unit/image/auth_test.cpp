// Credentials in docker config.json (read, atomic 0600 write), base64, WWW-Authenticate
// parsing, and which registries are spoken to over plain HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "image/auth.h"
#include "image/registry_client.h"

namespace zl {
namespace {

using json = nlohmann::json;

class AuthConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create(fs::temp_directory_path(), "zl-auth-test-");
    ASSERT_TRUE(d) << d.error().message;
    dir_.emplace(std::move(*d));
  }
  fs::path path() const { return dir_->path() / "docker" / "config.json"; }
  void write(const json& doc) {
    ASSERT_TRUE(make_dirs(path().parent_path()));
    ASSERT_TRUE(write_file_atomic(path(), doc.dump()));
  }
  std::optional<TempDir> dir_;
};

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "user:pa ss:w0rd", std::string("\0\xff\x10", 3)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(base64_decode("dXN*"));
  EXPECT_EQ(basic_authorization({"user", "pass"}), "Basic dXNlcjpwYXNz");
}

TEST_F(AuthConfig, MissingFileMeansNoCredentials) {
  auto c = load_credentials("localhost:5000", path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->has_value());
}

TEST_F(AuthConfig, ReadsAuthAndUsernamePasswordEntries) {
  write({{"auths",
          {{"localhost:5000", {{"auth", base64_encode("alice:s3cret:x")}}},
           {"https://reg.example.com/v1/", {{"username", "bob"}, {"password", "pw"}}},
           {"https://index.docker.io/v1/", {{"auth", base64_encode("hub:hubpw")}}}}},
         {"credsStore", "desktop"}});
  EXPECT_EQ(**load_credentials("localhost:5000", path()), (Credentials{"alice", "s3cret:x"}));
  EXPECT_EQ(**load_credentials("reg.example.com", path()), (Credentials{"bob", "pw"}));
  EXPECT_EQ(**load_credentials("docker.io", path()), (Credentials{"hub", "hubpw"}));
  EXPECT_FALSE(load_credentials("other:5000", path())->has_value());
}

TEST_F(AuthConfig, BadFilesAreErrorsNamingThePath) {
  ASSERT_TRUE(make_dirs(path().parent_path()));
  ASSERT_TRUE(write_file_atomic(path(), "{not json"));
  auto c = load_credentials("localhost:5000", path());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find(path().string()), std::string::npos);

  write({{"auths", {{"localhost:5000", {{"auth", base64_encode("no-colon")}}}}}});
  auto bad = load_credentials("localhost:5000", path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not \"user:password\""), std::string::npos);
}

TEST_F(AuthConfig, SaveLoginWritesMode0600AndKeepsOtherEntries) {
  write({{"auths",
          {{"other:1", {{"auth", base64_encode("o:p")}}}, {"http://localhost:5000", {{"auth", "old"}}}}},
         {"psFormat", "table"}});
  ASSERT_TRUE(save_login("localhost:5000", "alice", "pw", path()));
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  json doc = json::parse(*read_file(path()));
  EXPECT_EQ(doc["psFormat"], "table");
  EXPECT_TRUE(doc["auths"].contains("other:1"));
  EXPECT_FALSE(doc["auths"].contains("http://localhost:5000"));  // the old spelling was replaced
  EXPECT_EQ(doc["auths"]["localhost:5000"]["auth"], base64_encode("alice:pw"));
  EXPECT_EQ(**load_credentials("localhost:5000", path()), (Credentials{"alice", "pw"}));
  EXPECT_EQ(**load_credentials("other:1", path()), (Credentials{"o", "p"}));

  // No temp file left beside it.
  int entries = 0;
  for (auto& e : fs::directory_iterator(path().parent_path())) (void)e, ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(AuthConfig, SaveLoginCreatesThePrivateDirectoryAndUsesDockerHubKey) {
  ASSERT_TRUE(save_login("docker.io", "hub", "pw", path()));
  struct stat st {};
  ASSERT_EQ(::stat(path().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  json doc = json::parse(*read_file(path()));
  EXPECT_TRUE(doc["auths"].contains("https://index.docker.io/v1/"));
}

TEST_F(AuthConfig, RemoveLogin) {
  ASSERT_TRUE(save_login("localhost:5000", "alice", "pw", path()));
  EXPECT_TRUE(*remove_login("localhost:5000", path()));
  EXPECT_FALSE(*remove_login("localhost:5000", path()));
  EXPECT_FALSE(load_credentials("localhost:5000", path())->has_value());
}

TEST(DefaultAuthConfigPath, HonoursDockerConfig) {
  const char* old = std::getenv("DOCKER_CONFIG");
  std::string saved = old ? old : "";
  ::setenv("DOCKER_CONFIG", "/tmp/zl-docker-cfg", 1);
  EXPECT_EQ(default_auth_config_path(), fs::path("/tmp/zl-docker-cfg/config.json"));
  ::unsetenv("DOCKER_CONFIG");
  EXPECT_EQ(default_auth_config_path().filename(), "config.json");
  EXPECT_EQ(default_auth_config_path().parent_path().filename(), ".docker");
  if (old) ::setenv("DOCKER_CONFIG", saved.c_str(), 1);
}

TEST(WwwAuthenticate, ParsesBearerChallenge) {
  auto ch = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
  ASSERT_TRUE(ch) << ch.error().message;
  EXPECT_EQ(ch->scheme, "bearer");
  EXPECT_EQ(ch->param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(ch->param("service"), "registry.docker.io");
  EXPECT_EQ(ch->param("scope"), "repository:library/busybox:pull,push");
  EXPECT_EQ(ch->param("error"), "");
}

TEST(WwwAuthenticate, ParsesBasicUnquotedAndEscapedValues) {
  auto basic = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_EQ(basic->param("realm"), "Registry Realm");

  auto odd = parse_www_authenticate(R"(BEARER Realm=http://h:1/t, error="insufficient_scope", x="a\"b")");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->scheme, "bearer");
  EXPECT_EQ(odd->param("realm"), "http://h:1/t");
  EXPECT_EQ(odd->param("error"), "insufficient_scope");
  EXPECT_EQ(odd->param("x"), "a\"b");
}

TEST(WwwAuthenticate, RejectsMalformedHeaders) {
  EXPECT_FALSE(parse_www_authenticate(""));
  auto unterminated = parse_www_authenticate(R"(Bearer realm="https://x)");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
}

TEST(RegistryIsInsecure, LoopbackAndConfiguredOnly) {
  EXPECT_TRUE(registry_is_insecure("127.0.0.1:5000", {}));
  EXPECT_TRUE(registry_is_insecure("127.8.9.10", {}));
  EXPECT_TRUE(registry_is_insecure("localhost:5000", {}));
  EXPECT_TRUE(registry_is_insecure("[::1]:5000", {}));
  EXPECT_FALSE(registry_is_insecure("128.0.0.1:5000", {}));
  EXPECT_FALSE(registry_is_insecure("docker.io", {}));
  EXPECT_FALSE(registry_is_insecure("reg.lan:5000", {"reg.lan:5001"}));
  EXPECT_TRUE(registry_is_insecure("reg.lan:5000", {"reg.lan:5000"}));
  EXPECT_TRUE(registry_is_insecure("reg.lan:5000", {"reg.lan"}));
}

}  // namespace
}  // namespace zl
