// The CNI delegation with Debian's containernetworking-plugins (bridge + host-local + portmap)
// on the real kernel, inside the test's own network namespace (see main.cc).

#include "network/cni_network.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"
#include "network/localnet_guard.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "tests/integration/network/raw_frame.h"
#include "tests/integration/network/tcp_probe.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

constexpr const char* kPluginDir = "/usr/lib/cni";

class CniNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    if (::access((std::string(kPluginDir) + "/bridge").c_str(), X_OK) != 0) {
      GTEST_SKIP() << "containernetworking-plugins not installed (hack/deps installs it)";
    }
    bridge_ = "crc" + std::to_string(::getpid() % 100000) + "br";
    WriteConflist(R"({
      "cniVersion": "1.0.0", "name": "crtest",
      "plugins": [
        {"type": "bridge", "bridge": ")" + bridge_ + R"(", "isGateway": true, "ipMasq": true,
         "hairpinMode": true,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.198.0.0/24"}]],
                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": ")" + dir_.Join("ipam") + R"("}},
        {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
      ]})");
    CniOptions options;
    options.conf_dir = dir_.Join("net.d");
    options.bin_dirs = {kPluginDir};
    options.cache_dir = dir_.Join("cache");
    net_ = CniNetwork::Create(options).value();
  }

  void TearDown() override {
    if (net_) {
      EXPECT_TRUE(net_->Reconcile({}).ok());
    }
    for (const auto& pin : pins_) {
      (void)RemoveNetns(pin);
    }
    if (auto nl = Netlink::Open(); nl.ok()) {
      (void)nl->DeleteLink(bridge_);
    }
    // The guard outlives the backend by design; later tests in this namespace start without.
    if (auto iptables = Iptables::Find(); iptables.ok()) {
      EXPECT_TRUE(RemoveLocalnetGuard(*iptables, kAllButLoopback).ok());
    }
  }

  void WriteConflist(const std::string& text) {
    ASSERT_TRUE(MakeDirs(dir_.Join("net.d"), 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("net.d/10-crtest.conflist"), text, 0644).ok());
  }

  PodNetworkConfig NewPod(const std::string& id, std::vector<PortMapping> ports = {}) {
    PodNetworkConfig config;
    config.sandbox_id = id;
    config.netns_path = dir_.Join("netns-" + id);
    config.pod_name = id;
    config.pod_namespace = "default";
    config.pod_uid = "uid-" + id;
    config.port_mappings = std::move(ports);
    EXPECT_TRUE(CreateNetns(config.netns_path).ok());
    pins_.push_back(config.netns_path);
    return config;
  }

  int IpamLeases() {
    int n = 0;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir_.Join("ipam"), ec)) {
      if (e.is_regular_file() && e.path().filename().string().starts_with("10.198.")) {
        ++n;
      }
    }
    return n;
  }

  TempDir dir_{"cni"};
  std::string bridge_;
  std::unique_ptr<CniNetwork> net_;
  std::vector<std::string> pins_;
};

TEST_F(CniNetworkTest, ReadyWhenConfigAndPluginsArePresent) { EXPECT_TRUE(net_->Ready().ok()); }

TEST_F(CniNetworkTest, TwoPodsReachEachOtherAndTheNode) {
  auto a = NewPod("cni-a");
  auto b = NewPod("cni-b");
  auto sa = net_->Setup(a);
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  auto sb = net_->Setup(b);
  ASSERT_TRUE(sb.ok()) << sb.error().ToString();
  EXPECT_NE(sa->ips.at(0), sb->ips.at(0));
  EXPECT_TRUE(net_->Check(a).ok());
  auto ns_a = std::move(OpenNetns(a.netns_path).value());
  auto ns_b = std::move(OpenNetns(b.netns_path).value());
  UniqueFd listener = Listen(ns_a.get(), sa->ips[0], 7100);
  EXPECT_EQ(RoundTrip(ns_b.get(), listener, sa->ips[0], 7100, "b to a"), "b to a");
  EXPECT_EQ(RoundTrip(-1, listener, sa->ips[0], 7100, "node to a"), "node to a");
  UniqueFd listener_b = Listen(ns_b.get(), sb->ips[0], 7101);
  EXPECT_EQ(RoundTrip(ns_a.get(), listener_b, sb->ips[0], 7101, "a to b"), "a to b");
  EXPECT_EQ(RoundTrip(-1, listener_b, sb->ips[0], 7101, "node to b"), "node to b");
}

TEST_F(CniNetworkTest, HostPortThroughPortmapAnswersOnLoopback) {
  auto a = NewPod("cni-web", {{Protocol::kTcp, 8080, 18090, ""}});
  auto sa = net_->Setup(a);
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  auto ns = std::move(OpenNetns(a.netns_path).value());
  UniqueFd listener = Listen(ns.get(), "0.0.0.0", 8080);
  EXPECT_EQ(RoundTrip(-1, listener, "127.0.0.1", 18090, "via loopback"), "via loopback");
  EXPECT_EQ(RoundTrip(-1, listener, "10.198.0.1", 18090, "via bridge"), "via bridge");
}

// portmap turns route_localnet on for the bridge (snat, its default) and adds no guard of its
// own (containernetworking/plugins#729); Cricket's guard covers the CNI bridge too.
TEST_F(CniNetworkTest, PodCraftingAFrameForTheNodesLoopbackGetsNothing) {
  auto a = NewPod("cni-raw", {{Protocol::kTcp, 8080, 18091, ""}});
  auto sa = net_->Setup(a);
  ASSERT_TRUE(sa.ok()) << sa.error().ToString();
  ASSERT_EQ(ReadFile("/proc/sys/net/ipv4/conf/" + bridge_ + "/route_localnet").value(), "1\n");
  auto ns = std::move(OpenNetns(a.netns_path).value());

  LoopbackProbe probe = ProbeNodeLoopbackFromPod(ns.get(), bridge_, sa->ips.at(0), "10.198.0.1");

  ASSERT_EQ(probe.error, "");
  EXPECT_EQ(probe.to_gateway, "to 10.198.0.1");
  EXPECT_EQ(probe.to_loopback, "") << "a pod reached the node's 127.0.0.1:" << probe.port;
}

TEST_F(CniNetworkTest, HostPortConflictIsRefusedBeforeAnyPluginRuns) {
  auto a = NewPod("cni-p1", {{Protocol::kTcp, 80, 18093, ""}});
  ASSERT_TRUE(net_->Setup(a).ok());
  auto b = NewPod("cni-p2", {{Protocol::kTcp, 80, 18093, ""}});
  auto clash = net_->Setup(b);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(clash.error().message(), "host port tcp/18093 is taken by sandbox cni-p1");
  EXPECT_EQ(IpamLeases(), 1);
  ASSERT_TRUE(net_->Teardown(a).ok());
  EXPECT_TRUE(net_->Setup(b).ok());  // free again
}

TEST_F(CniNetworkTest, TwoHundredPodsLeaveNothingBehind) {
  for (int i = 0; i < 200; ++i) {
    auto pod = NewPod("cni-loop-" + std::to_string(i));
    auto status = net_->Setup(pod);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error().ToString();
    ASSERT_TRUE(net_->Teardown(pod).ok());
    ASSERT_TRUE(RemoveNetns(pod.netns_path).ok());
    pins_.pop_back();
  }
  EXPECT_EQ(IpamLeases(), 0);
  auto nl = Netlink::Open().value();
  int bridge = *nl.LinkIndex(bridge_);
  auto links = nl.ListLinks();
  ASSERT_TRUE(links.ok());
  for (const auto& link : *links) {
    EXPECT_NE(link.master, bridge) << link.name << " still on the bridge";
  }
}

TEST_F(CniNetworkTest, TeardownReleasesAndIsIdempotent) {
  auto a = NewPod("cni-t", {{Protocol::kTcp, 80, 18091, ""}});
  ASSERT_TRUE(net_->Setup(a).ok());
  EXPECT_EQ(IpamLeases(), 1);
  ASSERT_TRUE(net_->Teardown(a).ok());
  EXPECT_EQ(IpamLeases(), 0);
  EXPECT_TRUE(net_->Teardown(a).ok());
  ASSERT_TRUE(RemoveNetns(a.netns_path).ok());
}

TEST_F(CniNetworkTest, ReconcileTearsDownOrphans) {
  auto a = NewPod("cni-live");
  auto b = NewPod("cni-dead");
  ASSERT_TRUE(net_->Setup(a).ok());
  ASSERT_TRUE(net_->Setup(b).ok());
  ASSERT_TRUE(net_->Reconcile({"cni-live"}).ok());
  EXPECT_EQ(IpamLeases(), 1);
}

TEST_F(CniNetworkTest, MissingPluginIsAClearErrorAndLeavesNothing) {
  WriteConflist(R"({"cniVersion":"1.0.0","name":"crtest","plugins":[
      {"type":"no-such-plugin"}]})");
  EXPECT_FALSE(net_->Ready().ok());
  auto a = NewPod("cni-x");
  auto setup = net_->Setup(a);
  ASSERT_FALSE(setup.ok());
  EXPECT_EQ(setup.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(setup.error().message().find("CNI plugin \"no-such-plugin\" not found"),
            std::string::npos);
  for (const auto& e : std::filesystem::directory_iterator(dir_.Join("cache"))) {
    EXPECT_FALSE(e.is_regular_file()) << "left behind: " << e.path();
  }
}

TEST_F(CniNetworkTest, MalformedConflistIsAClearError) {
  WriteConflist("{\"cniVersion\": \"1.0.0\", \"name\": ");
  auto ready = net_->Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().code(), Code::kInvalidArgument);
  auto a = NewPod("cni-y");
  EXPECT_EQ(net_->Setup(a).error().code(), Code::kInvalidArgument);
}

TEST_F(CniNetworkTest, FailingPluginUndoesEarlierPlugins) {
  // bridge + host-local succeed, then a plugin that fails: the lease must be released.
  WriteConflist(R"({"cniVersion": "1.0.0", "name": "crtest", "plugins": [
      {"type": "bridge", "bridge": ")" + bridge_ + R"(", "isGateway": true,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.198.0.0/24"}]],
                "dataDir": ")" + dir_.Join("ipam") + R"("}},
      {"type": "portmap", "capabilities": {"portMappings": true}, "snat": "not-a-bool"}]})");
  auto a = NewPod("cni-z", {{Protocol::kTcp, 80, 18092, ""}});
  auto setup = net_->Setup(a);
  ASSERT_FALSE(setup.ok());
  EXPECT_NE(setup.error().message().find("CNI plugin portmap ADD failed"), std::string::npos)
      << setup.error().message();
  EXPECT_EQ(IpamLeases(), 0);
}

}  // namespace
}  // namespace cricket::network
