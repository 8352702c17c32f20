#include <gtest/gtest.h>
#include <sys/stat.h>

#include "api/tls_context.h"
#include "common/fs.h"

namespace zl::api {
namespace {

TEST(TlsContext, RefusesAKeyFileGroupOrOthersMayAccess) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-tls-test-");
  ASSERT_TRUE(dir);
  fs::path key = dir->path() / "server.key";
  ASSERT_TRUE(write_file_atomic(key, "not really a key", 0600));
  EXPECT_TRUE(check_private_key_mode(key));
  ASSERT_TRUE(write_file_atomic(key, "not really a key", 0400));
  EXPECT_TRUE(check_private_key_mode(key));
  for (mode_t mode : {0640, 0604, 0610, 0644}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto st = check_private_key_mode(key);
    ASSERT_FALSE(st) << std::oct << mode;
    EXPECT_EQ(st.error().kind, ErrorKind::permission_denied);
    EXPECT_NE(st.error().message.find(key.string()), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("chmod 600"), std::string::npos) << st.error().message;
  }
  EXPECT_FALSE(check_private_key_mode(dir->path()));                  // not a regular file
  EXPECT_FALSE(check_private_key_mode(dir->path() / "missing.key"));  // not there
  // The context is not made from a key others may read, whatever the other files.
  auto ctx = make_tls_server_context(dir->path() / "cert.pem", key, dir->path() / "ca.pem");
  ASSERT_FALSE(ctx);
  EXPECT_EQ(ctx.error().kind, ErrorKind::permission_denied);
}

}  // namespace
}  // namespace zl::api
