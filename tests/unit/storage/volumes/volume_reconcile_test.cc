// VolumeManager::Open finishing what a crash cut short (issue #14), staged on disk: an attach
// that had the lease but no user yet, a detach or release that wrote its .releasing marker, a
// head published but not recorded. Local coordinator, dir store; no root.

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/volumes/attachment_record.h"
#include "storage/volumes/volume_manager.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

using namespace std::chrono_literals;

class VolumeReconcileTest : public ::testing::Test {
 protected:
  VolumeManagerOptions Options() {
    VolumeManagerOptions options;
    options.root = dir_.Join("a/volumes");
    options.node = "node-a";
    options.coordination = CoordinatorOptions::Local(dir_.Join("coordination"));
    options.snapshot_dir = dir_.Join("store");
    options.snapshot_interval = 1h;
    options.keepalive_interval = 50ms;
    return options;
  }
  std::unique_ptr<VolumeCoordinator> Coordinator() {
    auto c = MakeCoordinator(CoordinatorOptions::Local(dir_.Join("coordination")));
    EXPECT_TRUE(c.ok());
    return std::move(c).value();
  }
  bool LeaseFree() {
    auto c = Coordinator();
    auto lease = c->Acquire("vol", "probe");
    return lease.ok();
  }
  std::string Record() { return dir_.Join("a/volumes/attachments/vol.json"); }

  cricket::testing::TempDir dir_{"volrec"};
};

TEST_F(VolumeReconcileTest, AttachWithoutUserIsReleased) {
  {
    auto c = Coordinator();
    auto lease = c->Acquire("vol", "node-a");
    ASSERT_TRUE(lease.ok());
    AttachmentRecord intent;
    intent.lease = *lease;
    ASSERT_TRUE(MakeDirs(dir_.Join("a/volumes/attachments"), 0700).ok());
    ASSERT_TRUE(WriteFileAtomic(Record(), AttachmentToJson(intent), 0600).ok());
  }  // the process that held the lease is gone
  auto m = VolumeManager::Open(Options());
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_TRUE((*m)->Attached().empty());
  EXPECT_FALSE(std::filesystem::exists(Record()));
  m->reset();
  EXPECT_TRUE(LeaseFree());
}

TEST_F(VolumeReconcileTest, ReleasingMarkerFinishesTheRelease) {
  {
    auto m = VolumeManager::Open(Options());
    ASSERT_TRUE(m.ok());
    auto path = (*m)->Attach("vol", "pod1", "c1");
    ASSERT_TRUE(path.ok());
    ASSERT_TRUE(WriteFileAtomic(*path + "/f", "data", 0644).ok());
    ASSERT_TRUE((*m)->SnapshotNow("vol").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("a/volumes/attachments/vol.releasing"), "", 0600).ok());
  {
    auto m = VolumeManager::Open(Options());
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    EXPECT_TRUE((*m)->Attached().empty());
    EXPECT_FALSE(std::filesystem::exists(Record()));
    EXPECT_FALSE(std::filesystem::exists(dir_.Join("a/volumes/attachments/vol.releasing")));
  }
  EXPECT_TRUE(LeaseFree());
}

TEST_F(VolumeReconcileTest, AdoptsAHeadItsLeasePublished) {
  {
    auto m = VolumeManager::Open(Options());
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->Attach("vol", "pod1", "c1").ok());
  }
  auto record = AttachmentFromJson(ReadFile(Record()).value_or(""), Record());
  ASSERT_TRUE(record.ok());
  const std::string digest = "sha256:" + std::string(64, 'd');
  {
    auto c = Coordinator();
    ASSERT_TRUE(c->KeepAlive(record->lease).ok());
    ASSERT_TRUE(c->PublishHead(record->lease, {digest, 0}).ok());
  }
  auto m = VolumeManager::Open(Options());
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  auto attached = (*m)->Attached();
  ASSERT_EQ(attached.size(), 1U);
  EXPECT_EQ(attached[0].head, digest);
  EXPECT_EQ(attached[0].users.count("c1"), 1U);
}

}  // namespace
}  // namespace cricket::storage
