#include "runtime/windows/portable/hcn_document.h"

#include <gtest/gtest.h>

namespace zl::win {
namespace {

NodeNetwork node() {
  return *NodeNetwork::make(kDefaultClusterRange, "10.200.3.0/28");
}
uint32_t ip(const char* s) {
  return *net::parse_ipv4(s);
}

TEST(HcnNetwork, SliceMustBeInsideTheClusterRange) {
  auto n = NodeNetwork::make("10.200.0.0/16", "10.200.3.0/28");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->gateway(), ip("10.200.3.1"));
  EXPECT_EQ(NodeNetwork::make("10.200.0.0/16", "10.201.0.0/28").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(NodeNetwork::make("10.200.0.0/16", "10.200.0.0/31").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(NodeNetwork::make("10.200.0.0/16", "10.200.3.1/28").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(NodeNetwork::make("bogus", "10.200.3.0/28").error().kind, ErrorKind::invalid_argument);
}

TEST(HcnNetwork, ContainerAddresses) {
  auto n = node();
  EXPECT_TRUE(n.check_container_address(ip("10.200.3.2")));
  EXPECT_TRUE(n.check_container_address(ip("10.200.3.14")));
  EXPECT_FALSE(n.check_container_address(ip("10.200.3.0")));   // network
  EXPECT_FALSE(n.check_container_address(ip("10.200.3.1")));   // gateway
  EXPECT_FALSE(n.check_container_address(ip("10.200.3.15")));  // broadcast
  EXPECT_FALSE(n.check_container_address(ip("10.200.4.2")));   // another node's slice
}

TEST(HcnNetwork, OverlayDocumentFieldByField) {
  auto d = overlay_network_document(node(), "Ethernet0");
  EXPECT_EQ(d.at("Name"), "zlayer-overlay");
  EXPECT_EQ(d.at("Type"), "Transparent");
  EXPECT_EQ(d.at("SchemaVersion").at("Major"), 2);
  const auto& subnet = d.at("Ipams")[0].at("Subnets")[0];
  EXPECT_EQ(d.at("Ipams")[0].at("Type"), "Static");
  EXPECT_EQ(subnet.at("IpAddressPrefix"), "10.200.3.0/28");
  EXPECT_EQ(subnet.at("Routes")[0].at("NextHop"), "10.200.3.1");
  EXPECT_EQ(subnet.at("Routes")[0].at("DestinationPrefix"), "0.0.0.0/0");
  EXPECT_EQ(d.at("Policies")[0].at("Type"), "NetAdapterName");
  EXPECT_EQ(d.at("Policies")[0].at("Settings").at("NetworkAdapterName"), "Ethernet0");
  EXPECT_TRUE(overlay_network_document(node()).at("Policies").empty());
}

TEST(HcnEndpoint, DocumentFieldByField) {
  EndpointDocInput in;
  in.network = *parse_guid("11111111-2222-4333-8444-555555555555");
  in.container_id = "web-0";
  in.address = ip("10.200.3.5");
  in.dns_server = ip("10.200.3.1");
  in.dns_domain = "service.local";
  auto d = endpoint_document(node(), in);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->at("Name"), "zlayer-web-0");
  EXPECT_EQ(d->at("HostComputeNetwork"), "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(d->at("IpConfigurations")[0].at("IpAddress"), "10.200.3.5");
  EXPECT_EQ(d->at("IpConfigurations")[0].at("PrefixLength"), 28);
  EXPECT_EQ(d->at("Dns").at("ServerList")[0], "10.200.3.1");
  EXPECT_EQ(d->at("Dns").at("Domain"), "service.local");
  EXPECT_EQ(d->at("Dns").at("Search")[0], "service.local");
  const auto& pol = d->at("Policies");
  ASSERT_EQ(pol.size(), 2u);
  EXPECT_EQ(pol[0].at("Type"), "OutBoundNAT");
  EXPECT_EQ(pol[0].at("Settings").at("Exceptions")[0], "10.200.0.0/16");  // no NAT inside the cluster
  EXPECT_EQ(pol[1].at("Type"), "SDNRoute");
  EXPECT_EQ(pol[1].at("Settings").at("DestinationPrefix"), "10.200.0.0/16");
  EXPECT_EQ(d->at("Routes")[0].at("NextHop"), "10.200.3.1");
}

TEST(HcnEndpoint, NoDnsBlockWithoutDnsAndBadAddressesRefused) {
  EndpointDocInput in;
  in.container_id = "web-0";
  in.address = ip("10.200.3.5");
  EXPECT_FALSE(endpoint_document(node(), in)->contains("Dns"));
  in.address = ip("10.200.3.1");
  EXPECT_EQ(endpoint_document(node(), in).error().kind, ErrorKind::invalid_argument);
  in.address = ip("10.200.3.5");
  in.container_id.clear();
  EXPECT_EQ(endpoint_document(node(), in).error().kind, ErrorKind::invalid_argument);
}

TEST(HcnNamespace, Documents) {
  EXPECT_EQ(namespace_document().at("Type"), "HostDefault");
  auto add = namespace_add_endpoint(*parse_guid("11111111-2222-4333-8444-555555555555"));
  EXPECT_EQ(add.at("ResourceType"), "Endpoint");
  EXPECT_EQ(add.at("RequestType"), "Add");
  EXPECT_EQ(add.at("Settings").at("EndpointId"), "11111111-2222-4333-8444-555555555555");
}

TEST(HcnEndpoint, OwnerPrefixedNamesAndOrphans) {
  EXPECT_EQ(endpoint_name("web-0"), "zlayer-web-0");
  EXPECT_EQ(container_of_endpoint("zlayer-web-0"), "web-0");
  EXPECT_EQ(container_of_endpoint("zlayer-"), std::nullopt);
  EXPECT_EQ(container_of_endpoint("docker-web-0"), std::nullopt);
  std::vector<EndpointSummary> eps = {
      {"e1", "zlayer-web-0", "n1"}, {"e2", "zlayer-web-1", ""}, {"e3", "nat", ""}};
  auto orphans = orphan_endpoints(eps, {"web-0"});
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].id, "e2");
}

TEST(HcnEndpoint, ParsesPropertiesAndIdLists) {
  auto e = parse_endpoint_properties(R"({"ID":"e1","Name":"zlayer-web-0","HostComputeNamespace":"n1"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, "e1");
  EXPECT_EQ(e->name, "zlayer-web-0");
  EXPECT_EQ(e->namespace_id, "n1");
  EXPECT_FALSE(parse_endpoint_properties("[]"));
  EXPECT_EQ(*parse_id_list(R"(["a",{"Id":"b"},3])"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(parse_id_list("null")->empty());
  EXPECT_FALSE(parse_id_list("{}"));
}

}  // namespace
}  // namespace zl::win
