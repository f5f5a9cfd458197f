// The built-in bridge network on the real kernel, inside the test's own network namespace
// (see main.cc): pods get addresses, reach each other, the node and the gateway; hostPorts
// answer on 127.0.0.1 and the bridge address; teardown and reconcile leave nothing behind.

#include "network/bridge_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/cleanup.h"
#include "common/unique_fd.h"
#include "network/names.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "tests/integration/network/tcp_probe.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

class BridgeNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    options_.bridge = "crt" + std::to_string(::getpid() % 100000) + "br";
    options_.subnet = *Ipv4Cidr::Parse("10.199.0.0/24");
    options_.data_dir = dir_.Join("network");
    auto net = BridgeNetwork::Create(options_);
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    net_ = std::move(net).value();
  }

  void TearDown() override {
    for (const auto& pin : pins_) {
      (void)RemoveNetns(pin);
    }
    if (net_) {
      EXPECT_TRUE(net_->Destroy().ok());
    }
  }

  PodNetworkConfig NewPod(const std::string& id, std::vector<PortMapping> ports = {}) {
    PodNetworkConfig config;
    config.sandbox_id = id;
    config.netns_path = dir_.Join("netns-" + id);
    config.port_mappings = std::move(ports);
    auto made = CreateNetns(config.netns_path);
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    pins_.push_back(config.netns_path);
    return config;
  }

  static bool LinkExists(const std::string& name) {
    auto nl = Netlink::Open();
    return nl.ok() && nl->LinkIndex(name).ok();
  }

  TempDir dir_{"net"};
  BridgeOptions options_;
  std::unique_ptr<BridgeNetwork> net_;
  std::vector<std::string> pins_;
};

TEST_F(BridgeNetworkTest, TwoPodsReachEachOtherTheNodeAndTheGateway) {
  auto a = NewPod("pod-a");
  auto b = NewPod("pod-b");
  auto status_a = net_->Setup(a);
  ASSERT_TRUE(status_a.ok()) << status_a.error().ToString();
  auto status_b = net_->Setup(b);
  ASSERT_TRUE(status_b.ok()) << status_b.error().ToString();
  const std::string ip_a = status_a->ips.at(0);
  const std::string ip_b = status_b->ips.at(0);
  EXPECT_NE(ip_a, ip_b);
  EXPECT_EQ(status_a->gateway, "10.199.0.1");

  auto ns_a = std::move(OpenNetns(a.netns_path).value());
  auto ns_b = std::move(OpenNetns(b.netns_path).value());
  // b -> a, pod to pod.
  UniqueFd listener_a = Listen(ns_a.get(), ip_a, 7000);
  EXPECT_EQ(RoundTrip(ns_b.get(), listener_a, ip_a, 7000, "b to a"), "b to a");
  // node -> a and node -> b.
  EXPECT_EQ(RoundTrip(-1, listener_a, ip_a, 7000, "node to a"), "node to a");
  UniqueFd listener_b = Listen(ns_b.get(), ip_b, 7001);
  EXPECT_EQ(RoundTrip(ns_a.get(), listener_b, ip_b, 7001, "a to b"), "a to b");
  EXPECT_EQ(RoundTrip(-1, listener_b, ip_b, 7001, "node to b"), "node to b");
  // a -> gateway (the node's address on the bridge).
  UniqueFd gateway_listener = Listen(-1, "10.199.0.1", 7002);
  EXPECT_EQ(RoundTrip(ns_a.get(), gateway_listener, "10.199.0.1", 7002, "to gw"), "to gw");
}

TEST_F(BridgeNetworkTest, PodSeesOnlyLoopbackAndEth0WithDefaultRoute) {
  auto a = NewPod("pod-a");
  ASSERT_TRUE(net_->Setup(a).ok());
  auto ns = std::move(OpenNetns(a.netns_path).value());
  std::vector<LinkInfo> links;
  ASSERT_TRUE(RunInNetns(ns.get(), [&]() -> Result<void> {
                CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
                CR_ASSIGN_OR_RETURN(links, nl.ListLinks());
                return Ok();
              }).ok());
  std::set<std::string> names;
  for (const auto& l : links) {
    names.insert(l.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"lo", "eth0"}));
}

TEST_F(BridgeNetworkTest, HostPortAnswersOnLoopbackAndBridgeAddress) {
  auto a = NewPod("pod-web", {{Protocol::kTcp, 8080, 18080, ""}});
  auto status = net_->Setup(a);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  auto ns = std::move(OpenNetns(a.netns_path).value());
  UniqueFd listener = Listen(ns.get(), "0.0.0.0", 8080);
  EXPECT_EQ(RoundTrip(-1, listener, "127.0.0.1", 18080, "via loopback"), "via loopback");
  EXPECT_EQ(RoundTrip(-1, listener, "10.199.0.1", 18080, "via bridge"), "via bridge");
}

TEST_F(BridgeNetworkTest, HostPortConflictIsRefusedAndLeavesNothing) {
  auto a = NewPod("pod-1", {{Protocol::kTcp, 80, 18081, ""}});
  ASSERT_TRUE(net_->Setup(a).ok());
  auto b = NewPod("pod-2", {{Protocol::kTcp, 80, 18081, ""}});
  auto clash = net_->Setup(b);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(clash.error().message(), "host port tcp/18081 is taken by sandbox pod-1");
  EXPECT_FALSE(LinkExists(HostVethName("pod-2")));
  TempDir probe;
  auto leases = Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases();
  ASSERT_TRUE(leases.ok());
  EXPECT_EQ(leases->size(), 1u);  // only pod-1's
  // The same port over UDP is a different claim.
  auto c = NewPod("pod-3", {{Protocol::kUdp, 80, 18081, ""}});
  EXPECT_TRUE(net_->Setup(c).ok());
}

TEST_F(BridgeNetworkTest, MissingNetnsIsAnErrorAndReleasesTheLease) {
  PodNetworkConfig ghost;
  ghost.sandbox_id = "ghost";
  ghost.netns_path = dir_.Join("no-such-netns");
  auto setup = net_->Setup(ghost);
  ASSERT_FALSE(setup.ok());
  EXPECT_EQ(setup.error().code(), Code::kNotFound);
  EXPECT_TRUE(Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases()->empty());
}

TEST_F(BridgeNetworkTest, TeardownRemovesEverythingAndIsIdempotent) {
  auto a = NewPod("pod-t", {{Protocol::kTcp, 80, 18082, ""}});
  ASSERT_TRUE(net_->Setup(a).ok());
  ASSERT_TRUE(LinkExists(HostVethName("pod-t")));
  ASSERT_TRUE(net_->Teardown(a).ok());
  ASSERT_TRUE(RemoveNetns(a.netns_path).ok());
  EXPECT_FALSE(LinkExists(HostVethName("pod-t")));
  EXPECT_FALSE(std::filesystem::exists(a.netns_path));
  EXPECT_TRUE(Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases()->empty());
  auto chains = Iptables::Find()->ListChains("nat");
  ASSERT_TRUE(chains.ok());
  for (const auto& chain : *chains) {
    EXPECT_NE(chain, HostPorts::SandboxChain("pod-t"));
  }
  EXPECT_TRUE(net_->Teardown(a).ok());
  EXPECT_TRUE(RemoveNetns(a.netns_path).ok());
  // The port is free again.
  auto b = NewPod("pod-u", {{Protocol::kTcp, 80, 18082, ""}});
  EXPECT_TRUE(net_->Setup(b).ok());
}

TEST_F(BridgeNetworkTest, ReconcileAfterRestartRemovesOrphans) {
  auto a = NewPod("pod-live");
  auto b = NewPod("pod-dead", {{Protocol::kTcp, 80, 18083, ""}});
  ASSERT_TRUE(net_->Setup(a).ok());
  ASSERT_TRUE(net_->Setup(b).ok());
  // A restarted cricketd: a fresh object over the same data dir, told only pod-live exists.
  auto restarted = BridgeNetwork::Create(options_).value();
  ASSERT_TRUE(restarted->Reconcile({"pod-live"}).ok());
  EXPECT_TRUE(LinkExists(HostVethName("pod-live")));
  EXPECT_FALSE(LinkExists(HostVethName("pod-dead")));
  auto leases = Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases();
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ(leases->begin()->second, "pod-live");
  auto chains = Iptables::Find()->ListChains("nat");
  for (const auto& chain : *chains) {
    EXPECT_NE(chain, HostPorts::SandboxChain("pod-dead"));
  }
}

// Another Cricket on the node (a test's cricketd, a hack/cluster node) shares CRICKET-HOSTPORTS
// and the chain prefix: our reconcile must leave its sandbox's chain and jump alone (it once
// tried to delete the chain, which fails while the other's jump uses it).
TEST_F(BridgeNetworkTest, ReconcileLeavesAnotherInstancesHostPortsAlone) {
  BridgeOptions other = options_;
  other.bridge = "crt" + std::to_string(::getpid() % 100000) + "ob";
  other.subnet = *Ipv4Cidr::Parse("10.198.0.0/24");
  other.data_dir = dir_.Join("other-network");
  auto other_net = BridgeNetwork::Create(other);
  ASSERT_TRUE(other_net.ok()) << other_net.error().ToString();
  auto pod = NewPod("pod-other", {{Protocol::kTcp, 80, 18084, ""}});
  Cleanup remove_other([&] {
    (void)(*other_net)->Teardown(pod);
    (void)(*other_net)->Destroy();
  });
  ASSERT_TRUE((*other_net)->Setup(pod).ok());

  auto reconciled = net_->Reconcile({});
  ASSERT_TRUE(reconciled.ok()) << reconciled.error().ToString();
  auto chains = Iptables::Find()->ListChains("nat");
  ASSERT_TRUE(chains.ok());
  EXPECT_NE(std::find(chains->begin(), chains->end(), HostPorts::SandboxChain("pod-other")),
            chains->end());
  auto jumps = Iptables::Find()->ListRules("nat", kHostPortsChain);
  ASSERT_TRUE(jumps.ok());
  EXPECT_TRUE(std::any_of(jumps->begin(), jumps->end(), [](const std::string& rule) {
    return rule.find("cricket sandbox pod-other") != std::string::npos;
  }));
}

// The masquerade rule and the leases belong to the bridge, not to the subnet a caller names: a
// Destroy through options with another (here the default) subnet removes them all the same.
TEST_F(BridgeNetworkTest, DestroyWithAnotherSubnetRemovesMasqueradeRuleAndLeases) {
  auto a = NewPod("pod-m");
  ASSERT_TRUE(net_->Setup(a).ok());
  const std::string comment = "cricket masquerade " + options_.bridge;
  auto masquerade_rules = [&] {
    std::vector<std::string> found;
    for (const auto& rule : Iptables::Find()->ListRules("nat", "POSTROUTING").value()) {
      if (rule.find(comment + "\"") != std::string::npos) {
        found.push_back(rule);
      }
    }
    return found;
  };
  ASSERT_EQ(masquerade_rules().size(), 1u);
  BridgeOptions other = options_;
  other.subnet = BridgeOptions{}.subnet;

  auto destroyed = BridgeNetwork::Create(other).value()->Destroy();

  ASSERT_TRUE(destroyed.ok()) << destroyed.error().ToString();
  EXPECT_TRUE(masquerade_rules().empty());
  EXPECT_FALSE(LinkExists(options_.bridge));
  EXPECT_TRUE(Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases()->empty());
}

TEST_F(BridgeNetworkTest, TwoHundredPodsLeaveNothingBehind) {
  for (int i = 0; i < 200; ++i) {
    auto pod = NewPod("loop-" + std::to_string(i));
    auto status = net_->Setup(pod);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error().ToString();
    ASSERT_TRUE(net_->Teardown(pod).ok());
    ASSERT_TRUE(RemoveNetns(pod.netns_path).ok());
    pins_.pop_back();
  }
  auto nl = Netlink::Open().value();
  int bridge = *nl.LinkIndex(options_.bridge);
  auto links = nl.ListLinks();
  ASSERT_TRUE(links.ok());
  for (const auto& link : *links) {
    EXPECT_NE(link.master, bridge) << link.name << " still on the bridge";
  }
  EXPECT_TRUE(Ipam::Open(options_.data_dir + "/leases", options_.subnet)->Leases()->empty());
  int left = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    ++left;
  }
  EXPECT_EQ(left, 1);  // only the network data dir
}

}  // namespace
}  // namespace cricket::network
