// What the DNS server is configured from: listen/upstream addresses, resolv.conf, records files.
#include <gtest/gtest.h>

#include "common/fs.h"
#include "net/dns_server.h"

namespace zl::net {
namespace {

TEST(DnsConfig, EndpointsParse) {
  auto a = parse_dns_endpoint("10.200.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "10.200.0.1:53");
  EXPECT_EQ(parse_dns_endpoint("127.0.0.1:5353")->str(), "127.0.0.1:5353");
  EXPECT_EQ(parse_dns_endpoint("fd00::1")->str(), "[fd00::1]:53");
  EXPECT_EQ(parse_dns_endpoint("[fd00::1]:54")->str(), "[fd00::1]:54");
  EXPECT_EQ(parse_dns_endpoint("[::1]")->str(), "[::1]:53");
  for (auto bad :
       {"", "web:53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:5x", "[::1", "[::1]x", "[::1]:"})
    EXPECT_FALSE(parse_dns_endpoint(bad)) << bad;
}

TEST(DnsConfig, ResolvConfUpstreamsSkipLoopbackUnlessKept) {
  auto dir = TempDir::create(fs::temp_directory_path(), "dns-config-");
  ASSERT_TRUE(dir);
  auto path = dir->path() / "resolv.conf";
  ASSERT_TRUE(
      write_file_atomic(path,
                        "# generated\nsearch example.com\nnameserver 127.0.0.53\n"
                        "nameserver 10.0.0.2 \nnameserver\tfd00::53\nnameserver ::1\n"
                        "nameserver fe80::1%eth0\nnameserver bogus\nnameserver 10.0.0.2\noptions edns0\n"));
  auto skip = resolv_conf_upstreams(path, false);
  ASSERT_TRUE(skip);
  ASSERT_EQ(skip->size(), 2u);
  EXPECT_EQ((*skip)[0].str(), "10.0.0.2:53");
  EXPECT_EQ((*skip)[1].str(), "[fd00::53]:53");
  auto keep = resolv_conf_upstreams(path, true);
  ASSERT_TRUE(keep);
  ASSERT_EQ(keep->size(), 4u);
  EXPECT_EQ((*keep)[0].str(), "127.0.0.53:53");
  EXPECT_EQ((*keep)[3].str(), "[::1]:53");
  EXPECT_FALSE(resolv_conf_upstreams(dir->path() / "missing", false));
}

TEST(DnsConfig, RecordsParseCanonicalized) {
  auto r = parse_dns_records(R"({"records": {"Web.": ["10.200.0.5", "10.200.0.6", "10.200.0.5"],
                                             "1.web.service.local": ["10.200.0.5"], "v6": ["fd00::5"], "none": []}})");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  ASSERT_EQ(r->at("web").size(), 2u) << "duplicates dropped";
  EXPECT_EQ(r->at("web")[1].to_string(), "10.200.0.6");
  EXPECT_TRUE(r->at("v6")[0].is_v6());
  EXPECT_TRUE(r->at("none").empty());
  EXPECT_TRUE(parse_dns_records(R"({"records": {}})"));
  for (auto bad :
       {"", "[]", "{}", R"({"records": []})", R"({"records": {"web": "10.0.0.1"}})",
        R"({"records": {"web": ["10.0.0.300"]}})", R"({"records": {"web": [5]}})",
        R"({"records": {"a..b": ["10.0.0.1"]}})", R"({"records": {"": ["10.0.0.1"]}})", "{\"records\": {"})
    EXPECT_FALSE(parse_dns_records(bad)) << bad;
}

}  // namespace
}  // namespace zl::net
