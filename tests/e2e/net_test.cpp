// Container networking through the zlayer binary with real CNI plugins, bridges, namespaces and
// iptables: containers reach each other, published ports answer on the host, egress leaves by
// masquerade, none/container: modes, isolated user networks, and removal and crash reaping that
// leave nothing behind. All traffic stays on the host's bridges and namespaces the test makes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "fixtures/net_fixture.h"

namespace zl::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class Net : public NetTest {
 protected:
  json inspect(const std::string& name) {
    auto r = zlayer({"inspect", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)[0] : json();
  }
  std::string id_of(const std::string& name) { return inspect(name)["Id"].get<std::string>(); }
  // A busybox httpd serving "hello from <name>" on port 80.
  void run_web(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", "-d", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    for (std::string a : {"busybox:1.0", "sh", "-c"}) args.push_back(a);
    args.push_back("mkdir -p /www && echo hello from " + name + " > /www/index.html && exec httpd -f -p 80 -h /www");
    auto r = zlayer(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void run_idle(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run", "-d", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    for (std::string a : {"busybox:1.0", "sleep", "600"}) args.push_back(a);
    auto r = zlayer(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Until the container's httpd answers (it starts a moment after `run -d`).
  void wait_listening(const std::string& name) {
    for (int i = 0; i < 50; ++i) {
      if (sh(name, "wget -q -O /dev/null http://127.0.0.1:80/").first == 0) return;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << name << " never listened on port 80";
  }
  std::vector<std::string> host_lines(const std::vector<std::string>& argv, const std::string& needle) {
    std::vector<std::string> out;
    std::istringstream in(host(argv).second);
    for (std::string line; std::getline(in, line);)
      if (line.find(needle) != std::string::npos) out.push_back(line);
    return out;
  }
  fs::path ipam_dir() { return root_ / "networks" / "zlayer" / "ipam" / "zlayer"; }
};

TEST_F(Net, TwoContainersOnTheDefaultNetworkReachEachOther) {
  run_web("web");
  run_idle("client");
  wait_listening("web");
  std::string web = ip_of("web"), client = ip_of("client");
  ASSERT_FALSE(web.empty());
  EXPECT_NE(web, client);
  EXPECT_TRUE(web.starts_with("10." + std::to_string(210 + slot_) + ".0.")) << web << " not in the node's /24";
  auto ping = sh("client", "ping -c1 -W2 " + web);
  EXPECT_EQ(ping.first, 0) << ping.second;
  auto get = sh("client", "wget -qO- http://" + web + "/");
  EXPECT_EQ(get.second, "hello from web\n");
  auto nc = sh("client", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + web + " 80 | head -1");
  EXPECT_NE(nc.second.find("HTTP/1"), std::string::npos) << nc.second;

  // Each network's records file has the names for the DNS server.
  auto records = json::parse(read_file(root_ / "networks" / "zlayer" / "dns.json").value());
  EXPECT_EQ(records["records"]["web"], json::array({web}));
  EXPECT_EQ(records["records"]["client"], json::array({client}));
  // /etc/hosts has the container's own address.
  auto hosts = zlayer({"exec", "web", "cat", "/etc/hosts"});
  EXPECT_NE(hosts.out.find(web + "\t"), std::string::npos) << hosts.out;
  // inspect: the network settings.
  json ns = inspect("web")["NetworkSettings"];
  EXPECT_EQ(ns["Networks"]["zlayer"]["IPAddress"], web);
  EXPECT_EQ(ns["Networks"]["zlayer"]["IPPrefixLen"], 24);
  EXPECT_EQ(ns["Gateway"], "10." + std::to_string(210 + slot_) + ".0.1");
  EXPECT_EQ(ns["MacAddress"].get<std::string>().size(), 17u);
  // stats: the traffic above went through the container's interface.
  auto stats = zlayer({"stats", "--no-stream", "web"});
  EXPECT_NE(stats.out.find("NET I/O"), std::string::npos) << stats.out;
  EXPECT_EQ(stats.out.find(" 0B / 0B   0B / 0B"), std::string::npos) << stats.out;
}

TEST_F(Net, AnExhaustedSubnetIsAClearErrorAndLeavesNothing) {
  // A /30: the gateway and one address for containers.
  std::string subnet = "10." + std::to_string(210 + slot_) + ".99.0/30";
  ASSERT_EQ(zlayer({"network", "create", "--subnet", subnet, "tiny"}).exit_code, 0);
  run_idle("only", {"--network", "tiny"});
  auto full = zlayer({"run", "-d", "--name", "extra", "--network", "tiny", "busybox:1.0", "sleep", "600"});
  EXPECT_NE(full.exit_code, 0);
  EXPECT_NE(full.err.find("no free address"), std::string::npos) << full.err;
  EXPECT_NE(zlayer({"inspect", "extra"}).exit_code, 0) << "the failed container is gone";
  ASSERT_EQ(zlayer({"rm", "-f", "only"}).exit_code, 0);
  run_idle("again", {"--network", "tiny"});  // its address came back
  ASSERT_EQ(zlayer({"rm", "-f", "again"}).exit_code, 0);
  EXPECT_EQ(zlayer({"network", "rm", "tiny"}).exit_code, 0);
}

TEST_F(Net, PublishedPortAnswersOnLoopbackTheHostAndFromContainers) {
  auto port = free_port();
  ASSERT_TRUE(port);
  std::string p = std::to_string(*port);
  run_web("web", {"-p", p + ":80"});
  run_idle("client");
  wait_listening("web");
  auto [code, out] = host({"busybox", "wget", "-qO-", "http://127.0.0.1:" + p + "/"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "hello from web\n");
  std::string gateway = inspect("web")["NetworkSettings"]["Gateway"];
  auto via_bridge = host({"busybox", "wget", "-qO-", "http://" + gateway + ":" + p + "/"});
  EXPECT_EQ(via_bridge.second, "hello from web\n");
  auto direct = host({"busybox", "wget", "-qO-", "http://" + ip_of("web") + ":80/"});
  EXPECT_EQ(direct.second, "hello from web\n");
  auto from_container = sh("client", "wget -qO- http://" + gateway + ":" + p + "/");
  EXPECT_EQ(from_container.second, "hello from web\n");
  json ports = inspect("web")["NetworkSettings"]["Ports"];
  EXPECT_EQ(ports["80/tcp"][0]["HostPort"], p);
  EXPECT_NE(zlayer({"ps"}).out.find("0.0.0.0:" + p + "->80/tcp"), std::string::npos);
  // The same host port twice is refused.
  auto again = zlayer({"run", "-d", "-p", p + ":81", "busybox:1.0", "sleep", "1"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already published"), std::string::npos) << again.err;
}

TEST_F(Net, EgressLeavesThroughMasquerade) {
  std::string server = start_internet();
  run_idle("client");
  // The "internet" has no route back to the containers' subnet: an answer proves the masquerade.
  auto r = sh("client", "wget -qO- http://" + server + ":8080/cgi-bin/addr");
  EXPECT_EQ(r.first, 0) << r.second;
  EXPECT_EQ(r.second, "198.18." + std::to_string(slot_) + ".1\n");

  // Large frames inside the node, the uplink's MTU on the way out.
  EXPECT_EQ(sh("client", "cat /sys/class/net/eth0/mtu").second, "65520\n");
  std::string uplink = "1500";
  if (auto def = host_lines({"ip", "-o", "route", "show", "default"}, " dev "); !def.empty()) {
    std::istringstream words(def.front().substr(def.front().find(" dev ") + 5));
    std::string dev;
    words >> dev;
    uplink = read_file("/sys/class/net/" + dev + "/mtu").value_or("1500\n");
    uplink.erase(uplink.find_last_not_of("\n") + 1);
  }
  auto route = host_lines({"nsenter", "--net=" + (root_ / "netns" / id_of("client")).string(), "ip", "-o", "route",
                           "show", "default"},
                          "default");
  ASSERT_EQ(route.size(), 1u);
  EXPECT_NE(route.front().find(" mtu " + uplink), std::string::npos) << route.front();
}

TEST_F(Net, NoneHasOnlyLoopback) {
  auto r = zlayer({"run", "--rm", "--network", "none", "busybox:1.0", "sh", "-c", "ls /sys/class/net; ip -o -4 addr"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n') + 1), "lo\n");
  EXPECT_NE(r.out.find("inet 127.0.0.1/8"), std::string::npos) << r.out;  // and lo is up
  EXPECT_EQ(r.out.find("eth0"), std::string::npos) << r.out;
}

TEST_F(Net, ContainerModeSharesTheNamespace) {
  run_web("web");
  wait_listening("web");
  auto r = zlayer({"run", "--rm", "--network", "container:web", "busybox:1.0", "sh", "-c",
                   "wget -qO- http://127.0.0.1:80/; ip -o -4 addr show eth0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello from web"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inet " + ip_of("web") + "/24"), std::string::npos) << r.out;
  ASSERT_EQ(zlayer({"stop", "-t", "0", "web"}).exit_code, 0);
  auto refused = zlayer({"run", "--rm", "--network", "container:web", "busybox:1.0", "true"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not running"), std::string::npos) << refused.err;
}

TEST_F(Net, UserNetworksAreIsolatedFromEachOther) {
  ASSERT_EQ(zlayer({"network", "create", "front"}).exit_code, 0);
  std::string subnet = "10." + std::to_string(210 + slot_) + ".77.0/24";
  ASSERT_EQ(zlayer({"network", "create", "--subnet", subnet, "back"}).exit_code, 0);
  auto dup = zlayer({"network", "create", "front"});
  EXPECT_NE(dup.exit_code, 0);
  auto overlap = zlayer({"network", "create", "--subnet", subnet, "other"});
  EXPECT_NE(overlap.exit_code, 0);

  json front = json::parse(zlayer({"network", "inspect", "front"}).out)[0];
  EXPECT_EQ(front["Driver"], "bridge");
  EXPECT_EQ(front["IPAM"]["Config"][0]["Subnet"], "10." + std::to_string(210 + slot_) + ".1.0/24");
  EXPECT_EQ(front["IPAM"]["Config"][0]["Gateway"], "10." + std::to_string(210 + slot_) + ".1.1");

  run_web("f1", {"--network", "front", "--network-alias", "frontend"});
  run_idle("f2", {"--network", "front"});
  run_idle("b1", {"--network", "back"});
  run_idle("both", {"--network", "front", "--network", "back"});
  wait_listening("f1");
  std::string f1 = ip_of("f1");
  EXPECT_TRUE(ip_of("b1").starts_with("10." + std::to_string(210 + slot_) + ".77.")) << ip_of("b1");

  EXPECT_EQ(sh("f2", "wget -qO- http://" + f1 + "/").second, "hello from f1\n");
  // (busybox's wget -T crashes: timeout(1) bounds it instead)
  auto across = sh("b1", "timeout 3 wget -qO- http://" + f1 + "/");
  EXPECT_NE(across.first, 0) << "back reached front: " << across.second;
  EXPECT_NE(sh("b1", "ping -c1 -W2 " + f1).first, 0);
  // On both networks: eth0 and eth1, and front is reachable.
  auto both = sh("both", "ls /sys/class/net | tr '\\n' ' '; wget -qO- http://" + f1 + "/");
  EXPECT_EQ(both.second, "eth0 eth1 lo hello from f1\n");

  // b1 joins front while it runs (eth1, with an alias there), reaches f1, and leaves again:
  // its address there is released and its names go.
  auto joined = zlayer({"network", "connect", "--alias", "late", "front", "b1"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_EQ(sh("b1", "wget -qO- http://" + f1 + "/").second, "hello from f1\n");
  EXPECT_EQ(sh("f2", "ping -c1 -W2 late").first, 0);
  std::string b1_front = sh("b1", "ip -o -4 addr show eth1 | awk '{print $4}' | cut -d/ -f1").second;
  b1_front.erase(b1_front.find_last_not_of("\n") + 1);
  ASSERT_FALSE(b1_front.empty());
  fs::path front_ipam = root_ / "networks" / "front" / "ipam" / "front";
  EXPECT_TRUE(fs::exists(front_ipam / b1_front));
  ASSERT_EQ(zlayer({"network", "disconnect", "front", "b1"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(front_ipam / b1_front)) << "address reservation left";
  EXPECT_NE(sh("b1", "ls /sys/class/net/eth1").first, 0);
  EXPECT_NE(sh("f2", "ping -c1 -W1 late").first, 0);
  EXPECT_NE(sh("b1", "timeout 3 wget -qO- http://" + f1 + "/").first, 0);
  EXPECT_NE(zlayer({"network", "disconnect", "front", "b1"}).exit_code, 0);

  json members = json::parse(zlayer({"network", "inspect", "front"}).out)[0]["Containers"];
  EXPECT_EQ(members.size(), 3u);
  auto records = json::parse(read_file(root_ / "networks" / "front" / "dns.json").value());
  EXPECT_EQ(records["records"]["frontend"], json::array({f1}));

  auto in_use = zlayer({"network", "rm", "front"});
  EXPECT_NE(in_use.exit_code, 0);
  EXPECT_NE(in_use.err.find("in use"), std::string::npos) << in_use.err;
  for (std::string c : {"f1", "f2", "both"}) ASSERT_EQ(zlayer({"rm", "-f", c}).exit_code, 0);
  std::string bridge = front["Options"]["bridge"];
  ASSERT_EQ(zlayer({"network", "rm", "front"}).exit_code, 0);
  EXPECT_FALSE(fs::exists("/sys/class/net/" + bridge));
  EXPECT_TRUE(host_lines({"iptables-save", "-t", "mangle"}, "ZLAYER-ISO-" + bridge).empty());
  EXPECT_NE(zlayer({"network", "inspect", "front"}).exit_code, 0);
}

TEST_F(Net, RemovalLeavesNothingBehindAndAddressesAreKept) {
  auto port = free_port();
  ASSERT_TRUE(port);
  run_web("web", {"-p", std::to_string(*port) + ":80"});
  std::string id = id_of("web"), ip = ip_of("web");
  std::string tag = "zlayer-" + id;
  // The host end of its veth: the peer of eth0.
  std::string peer = sh("web", "cat /sys/class/net/eth0/iflink").second;
  peer.erase(peer.find_last_not_of("\n") + 1);
  EXPECT_FALSE(host_lines({"ip", "-o", "link"}, peer + ": ").empty());
  EXPECT_FALSE(host_lines({"iptables-save"}, tag).empty());
  EXPECT_TRUE(fs::exists(ipam_dir() / ip));
  EXPECT_NE(read_file(ipam_dir() / ip).value().find(tag), std::string::npos);
  EXPECT_TRUE(fs::exists(root_ / "netns" / id));

  // Stopped and started again (a new process): the same namespace and address.
  ASSERT_EQ(zlayer({"stop", "-t", "0", "web"}).exit_code, 0);
  ASSERT_EQ(zlayer({"start", "web"}).exit_code, 0);
  EXPECT_EQ(ip_of("web"), ip);
  EXPECT_NE(sh("web", "ip -o -4 addr show eth0").second.find(ip + "/24"), std::string::npos);

  ASSERT_EQ(zlayer({"rm", "-f", "web"}).exit_code, 0);
  // The veth pair goes with the namespace, which the kernel tears down in the background.
  for (int i = 0; i < 100 && !host_lines({"ip", "-o", "link"}, peer + ": ").empty(); ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(host_lines({"ip", "-o", "link"}, peer + ": ").empty()) << "veth left";
  EXPECT_TRUE(host_lines({"iptables-save"}, tag).empty()) << "rules left";
  EXPECT_FALSE(fs::exists(ipam_dir() / ip)) << "address reservation left";
  EXPECT_FALSE(fs::exists(root_ / "netns" / id)) << "namespace left";
  EXPECT_FALSE(fs::exists(root_ / "netns" / (id + ".json")));
  auto records = json::parse(read_file(root_ / "networks" / "zlayer" / "dns.json").value());
  EXPECT_TRUE(records["records"].empty()) << records.dump();
  // The port is free again.
  run_web("web2", {"-p", std::to_string(*port) + ":80"});
}

TEST_F(Net, LeftoversOfACrashAreReaped) {
  // A container whose zlayer "crashed" mid-way: its process and record are gone, its network is not.
  // (A published port, so that there are per-container rules too: portmap's, tagged with its id.)
  auto port = free_port();
  ASSERT_TRUE(port);
  auto created = zlayer({"create", "--name", "lost", "-p", std::to_string(*port) + ":80", "busybox:1.0", "sleep", "600"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  json c = inspect("lost");
  std::string id = c["Id"], ip = c["NetworkSettings"]["IPAddress"];
  int pid = c["State"]["Pid"];
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  fs::path dir = root_ / "containers" / id;
  for (int i = 0; i < 50 && ::umount2((dir / "bundle" / "rootfs").c_str(), MNT_DETACH) != 0; ++i)
    std::this_thread::sleep_for(50ms);
  fs::remove_all(dir);
  fs::remove(root_ / "containers" / "names" / "lost");
  ASSERT_TRUE(fs::exists(root_ / "netns" / id));
  ASSERT_TRUE(fs::exists(ipam_dir() / ip));
  ASSERT_FALSE(host_lines({"iptables-save"}, "zlayer-" + id).empty());

  auto ls = zlayer({"network", "ls"});  // the first network use of a new process reaps
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_FALSE(fs::exists(root_ / "netns" / id));
  EXPECT_FALSE(fs::exists(root_ / "netns" / (id + ".json")));
  EXPECT_FALSE(fs::exists(ipam_dir() / ip));
  EXPECT_TRUE(host_lines({"iptables-save"}, "zlayer-" + id).empty());
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

// The network's DNS server: container names, aliases and the agent's service names resolve
// inside containers; other names are forwarded; the server goes with its network.
TEST_F(NetTest, NamesResolveThroughTheNetworksDnsServer) {
  ASSERT_EQ(zlayer({"network", "create", "named"}).exit_code, 0);
  auto web = zlayer({"run", "-d", "--name", "web", "--network", "named", "--network-alias", "www", "--label",
                     "zlayer.service=api", "--label", "zlayer.replica=0", "busybox:1.0", "httpd", "-f", "-p", "8080"});
  ASSERT_EQ(web.exit_code, 0) << web.err;
  ASSERT_EQ(zlayer({"run", "-d", "--name", "client", "--network", "named", "busybox:1.0", "sleep", "1000"}).exit_code,
            0);
  std::string ip = ip_of("web");
  ASSERT_FALSE(ip.empty());
  auto resolv = sh("client", "cat /etc/resolv.conf");
  EXPECT_NE(resolv.second.find("search service.local"), std::string::npos) << resolv.second;
  for (std::string name : {"web", "www", "api", "api.service.local", "0.api.service.local", "WEB"}) {
    auto r = sh("client", "nslookup " + name);
    EXPECT_EQ(r.first, 0) << name << ": " << r.second;
    EXPECT_NE(r.second.find("Address: " + ip), std::string::npos) << name << ": " << r.second;
  }
  auto tcp = sh("client", "echo 'GET / HTTP/1.0' | timeout 5 nc web 8080 | head -1");
  EXPECT_NE(tcp.second.find("HTTP/1."), std::string::npos) << tcp.second;
  auto unknown = sh("client", "nslookup nosuch.service.local");
  EXPECT_NE(unknown.first, 0) << unknown.second;
  // Removed containers leave the records at once.
  ASSERT_EQ(zlayer({"rm", "-f", "web"}).exit_code, 0);
  auto gone = sh("client", "nslookup web");
  EXPECT_NE(gone.first, 0) << gone.second;
  ASSERT_EQ(zlayer({"rm", "-f", "client"}).exit_code, 0);
  ASSERT_EQ(zlayer({"network", "rm", "named"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // ("[d]" keeps pgrep from finding the shell that runs it.)
  auto after = host({"sh", "-c", "pgrep -f '[d]ns-server.*" + root_.string() + "/networks/named/' || true"});
  EXPECT_EQ(after.second, "") << "the DNS server outlived its network";
}

}  // namespace
}  // namespace zl::testing
