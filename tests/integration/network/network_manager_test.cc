// NetworkManager on the real kernel (inside the test's own namespaces): it owns the pod's
// namespace pin, picks the backend, and reconciles pins left by a crash.

#include "network/network_manager.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/files.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

class NetworkManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    options_.config.bridge = "crm" + std::to_string(::getpid() % 100000) + "br";
    options_.config.subnet = "10.197.0.0/24";
    options_.config.cni_conf_dir = dir_.Join("net.d");  // empty: auto picks the bridge
    options_.data_dir = dir_.Join("root/network");
    options_.netns_dir = dir_.Join("state/netns");
  }
  void TearDown() override {
    if (auto nl = Netlink::Open(); nl.ok()) {
      (void)nl->DeleteLink(options_.config.bridge);
    }
  }

  TempDir dir_{"netmgr"};
  NetworkManagerOptions options_;
};

TEST_F(NetworkManagerTest, AutoPicksBridgeWithoutCniConfig) {
  auto manager = NetworkManager::Create(options_);
  ASSERT_TRUE(manager.ok()) << manager.error().ToString();
  EXPECT_EQ((*manager)->backend_name(), "bridge");
  EXPECT_TRUE((*manager)->Ready().ok());
}

TEST_F(NetworkManagerTest, AutoPicksCniWhenConfigured) {
  ASSERT_TRUE(MakeDirs(dir_.Join("net.d"), 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("net.d/10-x.conf"),
                              R"({"cniVersion":"1.0.0","name":"x","type":"loopback"})", 0644)
                  .ok());
  auto manager = NetworkManager::Create(options_);
  ASSERT_TRUE(manager.ok());
  EXPECT_EQ((*manager)->backend_name(), "cni");
}

TEST_F(NetworkManagerTest, BadSubnetNamesTheKey) {
  options_.config.subnet = "10.197.0.1/24";
  auto manager = NetworkManager::Create(options_);
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(manager.error().message(),
            "network.subnet: invalid CIDR \"10.197.0.1/24\": host bits are set");
}

TEST_F(NetworkManagerTest, SetupCreatesPinAndTeardownRemovesIt) {
  auto manager = NetworkManager::Create(options_).value();
  PodNetworkConfig pod;
  pod.sandbox_id = "sb1";
  auto status = manager->SetupPod(pod);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_TRUE(std::filesystem::exists(manager->NetnsPath("sb1")));
  EXPECT_TRUE(OpenNetns(manager->NetnsPath("sb1")).ok());
  ASSERT_TRUE(manager->TeardownPod(pod).ok());
  EXPECT_FALSE(std::filesystem::exists(manager->NetnsPath("sb1")));
  EXPECT_TRUE(manager->TeardownPod(pod).ok());
}

TEST_F(NetworkManagerTest, FailedSetupLeavesNoPin) {
  auto manager = NetworkManager::Create(options_).value();
  PodNetworkConfig a;
  a.sandbox_id = "sb-a";
  a.port_mappings = {{Protocol::kTcp, 80, 18100, ""}};
  ASSERT_TRUE(manager->SetupPod(a).ok());
  PodNetworkConfig b = a;
  b.sandbox_id = "sb-b";
  auto clash = manager->SetupPod(b);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Code::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(manager->NetnsPath("sb-b")));
  EXPECT_TRUE(manager->TeardownPod(a).ok());
}

TEST_F(NetworkManagerTest, ReconcileRemovesOrphanedPins) {
  auto manager = NetworkManager::Create(options_).value();
  PodNetworkConfig live;
  live.sandbox_id = "live";
  PodNetworkConfig dead;
  dead.sandbox_id = "dead";
  ASSERT_TRUE(manager->SetupPod(live).ok());
  ASSERT_TRUE(manager->SetupPod(dead).ok());
  ASSERT_TRUE(manager->Reconcile({"live"}).ok());
  EXPECT_TRUE(std::filesystem::exists(manager->NetnsPath("live")));
  EXPECT_FALSE(std::filesystem::exists(manager->NetnsPath("dead")));
  EXPECT_TRUE(manager->Reconcile({}).ok());
  EXPECT_TRUE(std::filesystem::is_empty(options_.netns_dir));
}

}  // namespace
}  // namespace cricket::network
