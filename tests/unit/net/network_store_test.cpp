// The records file for the DNS server, network names, and iptables-save lines as arguments.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "net/attachment.h"
#include "net/iptables.h"
#include "net/network_store.h"

namespace zl::net {
namespace {

TEST(DnsRecords, AddLowerCasesAndRemoveDropsEmptyNames) {
  DnsRecords r;
  add_dns_names(r, {"Web", "web.", "web.service.local", "0.web.service.local"}, "10.200.0.5");
  add_dns_names(r, {"web", "web.service.local", "1.web.service.local"}, "10.200.0.6");
  EXPECT_EQ(r["web"], (std::vector<std::string>{"10.200.0.5", "10.200.0.6"}));
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(dns_records_json(r))["records"]["0.web.service.local"],
            nlohmann::json::array({"10.200.0.5"}));
  remove_dns_address(r, "10.200.0.5");
  EXPECT_EQ(r["web"], std::vector<std::string>{"10.200.0.6"});
  EXPECT_FALSE(r.count("0.web.service.local"));
  remove_dns_address(r, "10.200.0.6");
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(dns_records_json(r), "{\n  \"records\": {}\n}\n");
}

TEST(NetworkStore, SavesLoadsAndLists) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-netstore-");
  ASSERT_TRUE(dir);
  NetworkStore store(dir->path() / "networks");
  ASSERT_TRUE(store.init());
  NetworkRecord n{.name = "front", .id = std::string(64, 'a'), .subnet = *Ipv4Net::parse("10.200.1.0/24"),
                  .gateway = *parse_ipv4("10.200.1.1"), .bridge = "zl1", .created_at = 5};
  ASSERT_TRUE(store.save(n));
  auto back = store.load("front");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->subnet.str(), "10.200.1.0/24");
  EXPECT_EQ(format_ipv4(back->gateway), "10.200.1.1");
  EXPECT_EQ(back->bridge, "zl1");
  EXPECT_EQ(store.list()->size(), 1u);
  EXPECT_EQ(store.load("back").error().kind, ErrorKind::not_found);
  EXPECT_EQ(store.load("../x").error().kind, ErrorKind::not_found);
  ASSERT_TRUE(store.remove("front"));
  EXPECT_TRUE(store.list()->empty());
}

TEST(NetworkNames, DockersRuleMinusModes) {
  EXPECT_TRUE(validate_network_name("front-1.a_b"));
  for (const char* bad : {"", "-a", ".a", "a/b", "bridge", "host", "none", "a b"})
    EXPECT_FALSE(validate_network_name(bad)) << bad;
}

TEST(Iptables, SplitsSavedRulesWithQuotedComments) {
  auto args = split_iptables_rule(
      R"(-A POSTROUTING -s 10.200.0.2/32 -m comment --comment "name: \"zlayer\" id: \"zlayer-abc\"" -j CNI-0bc9)");
  ASSERT_EQ(args.size(), 10u);
  EXPECT_EQ(args[0], "-A");
  EXPECT_EQ(args[7], "name: \"zlayer\" id: \"zlayer-abc\"");
  EXPECT_EQ(args[9], "CNI-0bc9");
  EXPECT_EQ(split_iptables_rule(R"(-A X --comment "" -j Y)").size(), 6u);
}

TEST(Attachment, RoundTrips) {
  ContainerNetwork n{.mode = NetworkMode::bridge, .netns = "/r/netns/x"};
  n.endpoints.push_back({.network = "zlayer", .ifname = "eth0", .address = "10.200.0.5", .prefix_len = 24,
                         .gateway = "10.200.0.1", .mac = "aa:bb:cc:dd:ee:ff", .dns_names = {"web"}});
  n.ports.push_back({"127.0.0.1", 8080, 80, "tcp"});
  auto back = container_network_from_json(to_json(n));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->endpoints[0].address, "10.200.0.5");
  EXPECT_EQ(back->endpoints[0].dns_names, std::vector<std::string>{"web"});
  EXPECT_EQ(back->ports[0], n.ports[0]);
  EXPECT_FALSE(container_network_from_json({{"mode", "weird"}}));
}

}  // namespace
}  // namespace zl::net
