// The node-loopback guard on the real kernel (CVE-2020-8558 class), inside the test's own
// network namespace (main.cc), which plays the node. route_localnet=1 on the bridge is what
// hostPort on 127.0.0.1 needs; these tests check that a pod crafting frames for the node's
// 127.0.0.1 still gets nowhere, that hostPort on 127.0.0.1 keeps working, and that the guard
// lives exactly as long as the bridge.

#include "network/localnet_guard.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "network/bridge_network.h"
#include "network/netns.h"
#include "tests/integration/network/raw_frame.h"
#include "tests/integration/network/tcp_probe.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

class LocalnetGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    options_.bridge = "crt" + std::to_string(::getpid() % 100000) + "lg";
    options_.subnet = *Ipv4Cidr::Parse("10.196.0.0/24");
    options_.data_dir = dir_.Join("network");
    auto net = BridgeNetwork::Create(options_);
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    net_ = std::move(net).value();
    // No guard from an earlier test (the CNI backend's): each test sees only this bridge's.
    ASSERT_FALSE(FilterChainExists(kFirewallChain));
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

  static bool FilterChainExists(const std::string& chain) {
    auto chains = Iptables::Find()->ListChains("filter");
    return chains.ok() && std::find(chains->begin(), chains->end(), chain) != chains->end();
  }

  static bool InputJumpsToGuard() {
    auto rules = Iptables::Find()->ListRules("filter", "INPUT");
    return rules.ok() && std::find(rules->begin(), rules->end(),
                                   std::string("-A INPUT -j ") + kFirewallChain) != rules->end();
  }

  TempDir dir_{"net"};
  BridgeOptions options_;
  std::unique_ptr<BridgeNetwork> net_;
  std::vector<std::string> pins_;
};

TEST_F(LocalnetGuardTest, PodCraftingAFrameForTheNodesLoopbackGetsNothing) {
  auto pod = NewPod("pod-raw");
  auto status = net_->Setup(pod);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  const std::string pod_ip = status->ips.at(0);
  const std::string gateway = status->gateway;
  // What makes the attack possible at all: without it the kernel drops the frame as a martian
  // and this test would pass for the wrong reason.
  ASSERT_EQ(ReadFile("/proc/sys/net/ipv4/conf/" + options_.bridge + "/route_localnet").value(),
            "1\n");

  auto ns = std::move(OpenNetns(pod.netns_path).value());

  LoopbackProbe probe = ProbeNodeLoopbackFromPod(ns.get(), options_.bridge, pod_ip, gateway);

  ASSERT_EQ(probe.error, "");
  // The same kind of frame to the gateway arrives: the frames are well-formed and delivered.
  EXPECT_EQ(probe.to_gateway, "to " + gateway);
  EXPECT_EQ(probe.to_loopback, "") << "a pod reached the node's 127.0.0.1:" << probe.port;
}

TEST_F(LocalnetGuardTest, HostPortOnLoopbackStillAnswers) {
  auto pod = NewPod("pod-hp", {{Protocol::kTcp, 8080, 18480, "127.0.0.1"}});
  auto status = net_->Setup(pod);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  auto ns = std::move(OpenNetns(pod.netns_path).value());
  UniqueFd listener = Listen(ns.get(), "0.0.0.0", 8080);

  EXPECT_EQ(RoundTrip(-1, listener, "127.0.0.1", 18480, "via loopback"), "via loopback");
}

TEST_F(LocalnetGuardTest, GuardComesWithTheBridgeAndGoesWithIt) {
  auto pod = NewPod("pod-life");
  ASSERT_TRUE(net_->Setup(pod).ok());
  auto rules = Iptables::Find()->ListRules("filter", kFirewallChain);
  ASSERT_TRUE(rules.ok()) << rules.error().ToString();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ(rules->front(), "-A CRICKET-FIREWALL -d 127.0.0.0/8 -i " + options_.bridge +
                                " -m comment --comment \"cricket localnet guard " +
                                options_.bridge +
                                "\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
  EXPECT_TRUE(InputJumpsToGuard());

  ASSERT_TRUE(net_->Destroy().ok());

  EXPECT_FALSE(FilterChainExists(kFirewallChain));
  EXPECT_FALSE(InputJumpsToGuard());
}

// A bridge left with route_localnet on and no guard (a Cricket from before the guard, or
// rules flushed by someone) is guarded again by the start-up reconcile, before any new pod.
TEST_F(LocalnetGuardTest, ReconcileGuardsABridgeThatHasRouteLocalnetOn) {
  auto pod = NewPod("pod-old");
  ASSERT_TRUE(net_->Setup(pod).ok());
  auto iptables = Iptables::Find().value();
  ASSERT_TRUE(RemoveLocalnetGuard(iptables, options_.bridge).ok());
  ASSERT_FALSE(FilterChainExists(kFirewallChain));

  auto restarted = BridgeNetwork::Create(options_).value();
  ASSERT_TRUE(restarted->Reconcile({"pod-old"}).ok());

  EXPECT_TRUE(FilterChainExists(kFirewallChain));
  EXPECT_TRUE(InputJumpsToGuard());
}

}  // namespace
}  // namespace cricket::network
