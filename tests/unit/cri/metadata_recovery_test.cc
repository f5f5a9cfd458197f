#include "cri/metadata_recovery.h"

#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cri/decoded_records.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

const std::string kPod(64, 'a');
const std::string kHostPod(64, 'b');
const std::string kBrokenPod(64, 'c');
const std::string kCtr(64, 'd');
const std::string kStrayCtr(64, 'e');

void Write(const std::string& path, const std::string& text) {
  ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/')), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(path, text, 0600).ok());
}

// What RunPodSandbox and CreateContainer leave under --state, reduced to what recovery reads.
class MetadataRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string s = state_.path();
    Write(s + "/sandboxes/" + kPod + "/infra/config.json",
          R"({"linux":{"cgroupsPath":"/kubepods/besteffort/)" + kPod +
              R"("},"annotations":{"io.kubernetes.cri.container-type":"sandbox"}})");
    Write(s + "/sandboxes/" + kPod + "/hostname", "web-0\n");
    Write(s + "/sandboxes/" + kPod + "/resolv.conf", "nameserver 10.0.0.10\n");
    Write(s + "/netns/" + kPod, "");
    Write(s + "/shims/" + kPod.substr(0, 16) + "/control.sock", "");
    // Host network, its infra shim gone.
    Write(s + "/sandboxes/" + kHostPod + "/infra/config.json", R"({"linux":{}})");
    // Died before its infra bundle was written.
    ASSERT_TRUE(MakeDirs(s + "/sandboxes/" + kBrokenPod, 0700).ok());
    Write(s + "/containers/" + kCtr + "/config.json",
          R"({"process":{"terminal":true},"annotations":{"io.kubernetes.cri.sandbox-id":")" + kPod +
              R"("}})");
    Write(s + "/containers/" + kStrayCtr + "/config.json",
          R"({"annotations":{"io.kubernetes.cri.sandbox-id":")" + kBrokenPod + R"("}})");
    Write(s + "/sandboxes/not-an-id/infra/config.json", "{}");
    auto store = MetadataStore::Open(root_.path());
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
  }

  TempDir root_{"root"};
  TempDir state_{"state"};
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(MetadataRecoveryTest, RecoversSandboxesAndContainersFromState) {
  auto recovered = RecoverMetadata(state_.path(), *store_);
  ASSERT_TRUE(recovered.ok()) << recovered.error().ToString();
  EXPECT_EQ(recovered->sandboxes, 2);
  EXPECT_EQ(recovered->containers, 1);
  EXPECT_EQ(recovered->skipped, 2);  // the broken pod and the container naming it

  auto pod = LoadSandbox(*store_, kPod);
  ASSERT_TRUE(pod.ok()) << pod.error().ToString();
  EXPECT_EQ(pod->record.state, SandboxState::kReady);
  EXPECT_EQ(pod->config.metadata().namespace_(), "cricket-recovered");
  EXPECT_EQ(pod->config.metadata().uid(), kPod);
  EXPECT_EQ(pod->config.labels().at("io.cricket.recovered"), "true");
  EXPECT_EQ(pod->info.netns_path, state_.path() + "/netns/" + kPod);
  EXPECT_FALSE(pod->info.host_network);
  EXPECT_EQ(pod->info.cgroup_parent, "/kubepods/besteffort");
  EXPECT_EQ(pod->info.hostname, "web-0");
  EXPECT_EQ(pod->info.resolv_conf, state_.path() + "/sandboxes/" + kPod + "/resolv.conf");
  EXPECT_EQ(pod->info.infra_shim_dir, state_.path() + "/shims/" + kPod.substr(0, 16));

  auto host = LoadSandbox(*store_, kHostPod);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->record.state, SandboxState::kNotReady);
  EXPECT_TRUE(host->info.host_network);
  EXPECT_EQ(host->info.netns_path, "");
  EXPECT_FALSE(store_->GetSandbox(kBrokenPod).ok());

  auto ctr = store_->GetContainer(kCtr);
  ASSERT_TRUE(ctr.ok());
  EXPECT_EQ(ctr->sandbox_id, kPod);
  EXPECT_EQ(ctr->state, ContainerState::kRunning);  // the next status call asks its shim
  auto info = DecodeInfo(*ctr);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->shim_dir, state_.path() + "/shims/" + kCtr.substr(0, 16));
  EXPECT_EQ(info->bundle, state_.path() + "/containers/" + kCtr);
  EXPECT_TRUE(info->tty);
  EXPECT_TRUE(DecodeConfig(*ctr).ok());
  EXPECT_FALSE(store_->GetContainer(kStrayCtr).ok());
}

TEST_F(MetadataRecoveryTest, EmptyStateRecoversNothing) {
  TempDir empty{"empty"};
  auto recovered = RecoverMetadata(empty.path(), *store_);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->sandboxes + recovered->containers + recovered->skipped, 0);
}

}  // namespace
}  // namespace cricket::cri
