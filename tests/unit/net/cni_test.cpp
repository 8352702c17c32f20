// CNI results and errors as the plugins print them, and the per-plugin config of a list.
#include <gtest/gtest.h>

#include "net/cni.h"

namespace zl::net {
namespace {

using json = nlohmann::json;

// What Debian's bridge plugin (1.1.1) printed for an ADD.
constexpr const char* kBridgeResult = R"({
    "cniVersion": "1.0.0",
    "interfaces": [
        {"name": "zl0", "mac": "86:81:fe:3f:dc:45"},
        {"name": "veth760c7858", "mac": "b6:af:36:af:1e:f0"},
        {"name": "eth0", "mac": "4e:96:fb:85:00:01", "sandbox": "/run/netns/x"}
    ],
    "ips": [{"interface": 2, "address": "10.200.0.2/24", "gateway": "10.200.0.1"}],
    "routes": [{"dst": "0.0.0.0/0"}],
    "dns": {}
})";

TEST(CniResult, ParsesInterfacesAddressesRoutes) {
  auto r = parse_cni_result(kBridgeResult);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->cni_version, "1.0.0");
  ASSERT_EQ(r->interfaces.size(), 3u);
  EXPECT_EQ(r->interfaces[2].sandbox, "/run/netns/x");
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(r->ips[0].interface, 2);
  ASSERT_NE(r->container_ip(), nullptr);
  EXPECT_EQ(r->container_ip()->address, "10.200.0.2/24");
  EXPECT_EQ(r->container_ip()->gateway, "10.200.0.1");
  ASSERT_NE(r->container_interface(), nullptr);
  EXPECT_EQ(r->container_interface()->mac, "4e:96:fb:85:00:01");
  ASSERT_EQ(r->routes.size(), 1u);
  EXPECT_EQ(r->routes[0].dst, "0.0.0.0/0");
  EXPECT_EQ(r->routes[0].gw, "");
  EXPECT_EQ(r->raw["ips"][0]["address"], "10.200.0.2/24");  // kept whole for prevResult
}

TEST(CniResult, DnsAndMissingParts) {
  auto r = parse_cni_result(
      R"({"cniVersion":"0.4.0","dns":{"nameservers":["10.0.0.1"],"domain":"svc","search":["a","b"],"options":["ndots:5"]}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->dns.nameservers, std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(r->dns.domain, "svc");
  EXPECT_EQ(r->dns.search.size(), 2u);
  EXPECT_EQ(r->container_ip(), nullptr);
  EXPECT_FALSE(parse_cni_result("not json"));
  EXPECT_FALSE(parse_cni_result("[1]"));
  EXPECT_FALSE(parse_cni_result(R"({"ips":[{"gateway":"x"}]})"));  // an address is required
}

SubprocessResult failed(std::string out, std::string err = "") {
  SubprocessResult r;
  r.exit_code = 1;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

TEST(CniError, CodeMessageAndDetails) {
  Error e = cni_error("bridge", "ADD",
                      failed(R"({"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"bridge name too long"})"));
  EXPECT_EQ(e.kind, ErrorKind::invalid_argument);
  EXPECT_EQ(e.message, "CNI plugin bridge ADD failed: invalid config: bridge name too long (code 7)");
  EXPECT_EQ(cni_error("x", "DEL", failed(R"({"code":3,"msg":"gone"})")).kind, ErrorKind::not_found);
  EXPECT_EQ(cni_error("x", "ADD", failed(R"({"code":11,"msg":"busy"})")).kind, ErrorKind::unavailable);
  EXPECT_EQ(cni_error("x", "ADD", failed(R"({"code":1,"msg":"old"})")).kind, ErrorKind::unsupported);
  EXPECT_EQ(cni_error("x", "ADD", failed(R"({"code":5,"msg":"disk"})")).kind, ErrorKind::io);
  EXPECT_EQ(cni_error("x", "ADD", failed(R"({"code":999,"msg":"odd"})")).kind, ErrorKind::internal);
}

TEST(CniError, ExhaustedRangeIsUnavailable) {
  Error e = cni_error("bridge", "ADD",
                      failed(R"({"code":999,"msg":"failed to allocate for range 0: no IP addresses available in range set: 10.200.0.1-10.200.0.6"})"));
  EXPECT_EQ(e.kind, ErrorKind::unavailable);
  EXPECT_NE(e.message.find("no free address left"), std::string::npos) << e.message;
}

TEST(CniError, NotAnErrorDocument) {
  Error e = cni_error("portmap", "ADD", failed("", "panic: runtime error\n"));
  EXPECT_EQ(e.kind, ErrorKind::internal);
  EXPECT_EQ(e.message, "CNI plugin portmap ADD failed: exit code 1: panic: runtime error");
}

TEST(CniConfig, PluginGetsNameVersionCapabilitiesAndPrevResult) {
  json list = {{"cniVersion", "1.0.0"},
               {"name", "zlayer"},
               {"plugins", json::array({{{"type", "bridge"}},
                                        {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}})}};
  CniRuntimeArgs args{.container_id = "zlayer-1"};
  args.runtime_config["portMappings"] = json::array({{{"hostPort", 8080}, {"containerPort", 80}}});
  args.runtime_config["bandwidth"] = json::object();
  json bridge = Cni::plugin_config(list, list["plugins"][0], args, std::nullopt);
  EXPECT_EQ(bridge["name"], "zlayer");
  EXPECT_EQ(bridge["cniVersion"], "1.0.0");
  EXPECT_FALSE(bridge.contains("runtimeConfig"));  // no capabilities declared
  EXPECT_FALSE(bridge.contains("prevResult"));
  json prev = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
  json portmap = Cni::plugin_config(list, list["plugins"][1], args, prev);
  EXPECT_EQ(portmap["runtimeConfig"], json({{"portMappings", args.runtime_config["portMappings"]}}));
  EXPECT_EQ(portmap["prevResult"], prev);
}

TEST(Cni, MissingPluginIsNotFound) {
  Cni cni({"/nonexistent"});
  json list = {{"cniVersion", "1.0.0"}, {"name", "n"}, {"plugins", json::array({{{"type", "bridge"}}})}};
  auto r = cni.add(list, CniRuntimeArgs{.container_id = "zlayer-x", .netns = "/nonexistent"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_NE(r.error().message.find("containernetworking-plugins"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace zl::net
