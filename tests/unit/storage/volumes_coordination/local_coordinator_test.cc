#include "storage/volumes/coordination/local_coordinator.h"

#include <memory>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/volumes_coordination/coordinator_conformance.h"

namespace cricket::storage {
namespace {

// Each coordinator on one directory stands for one node (or one cricketd process).
class LocalBackend {
 public:
  std::string SkipReason() { return ""; }
  Result<std::unique_ptr<VolumeCoordinator>> Make() {
    return MakeLocalCoordinator(CoordinatorOptions::Local(dir_.Join("coordination")));
  }
  std::string dir() const { return dir_.Join("coordination"); }

 private:
  testing::TempDir dir_{"volcoord"};
};

INSTANTIATE_TYPED_TEST_SUITE_P(LocalCoordinator, CoordinatorConformance, LocalBackend);

TEST(LocalCoordinatorTest, KeepsItsFilesInTheDirectory) {
  LocalBackend backend;
  Result<std::unique_ptr<VolumeCoordinator>> a = backend.Make();
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  Result<VolumeLease> lease = (*a)->Acquire("data", "node-a");
  ASSERT_TRUE(lease.ok()) << lease.error().ToString();
  ASSERT_TRUE((*a)->PublishHead(*lease, {.manifest_digest = "sha256:abc", .token = 0}).ok());

  Result<std::string> token = ReadFile(backend.dir() + "/data.token");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, std::to_string(lease->token) + "\n");
  Result<std::string> holder = ReadFile(backend.dir() + "/data.lock");
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder->rfind("node-a ", 0), 0u) << *holder;
  Result<std::string> head = ReadFile(backend.dir() + "/data.head");
  ASSERT_TRUE(head.ok());
  EXPECT_NE(head->find("sha256:abc"), std::string::npos);
  EXPECT_EQ(lease->ttl.count(), 0) << "local leases do not expire on their own";

  ASSERT_TRUE((*a)->Release(*lease).ok());
  Result<std::string> cleared = ReadFile(backend.dir() + "/data.lock");
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, "") << "a released lock names no holder";
}

TEST(LocalCoordinatorTest, LeaseOfAClosedCoordinatorResumesWhenNobodyTookOver) {
  LocalBackend backend;
  VolumeLease lease;
  {
    Result<std::unique_ptr<VolumeCoordinator>> before = backend.Make();
    ASSERT_TRUE(before.ok());
    Result<VolumeLease> acquired = (*before)->Acquire("data", "node-a");
    ASSERT_TRUE(acquired.ok());
    lease = *acquired;
  }  // the "process" ends: its lock goes
  Result<std::unique_ptr<VolumeCoordinator>> after = backend.Make();
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE((*after)->KeepAlive(lease).ok());
  EXPECT_TRUE((*after)->PublishHead(lease, {.manifest_digest = "sha256:1", .token = 0}).ok());

  Result<std::unique_ptr<VolumeCoordinator>> other = backend.Make();
  ASSERT_TRUE(other.ok());
  Result<VolumeLease> refused = (*other)->Acquire("data", "node-b");
  ASSERT_FALSE(refused.ok()) << "the resumed lease holds the lock again";
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
}

TEST(LocalCoordinatorTest, CorruptCounterIsDataLoss) {
  LocalBackend backend;
  Result<std::unique_ptr<VolumeCoordinator>> a = backend.Make();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(WriteFileAtomic(backend.dir() + "/data.token", "garbage", 0600).ok());
  Result<VolumeLease> lease = (*a)->Acquire("data", "node-a");
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code(), Code::kDataLoss);
  Result<VolumeLease> again = (*a)->Acquire("data", "node-a");
  EXPECT_EQ(again.error().code(), Code::kDataLoss) << "the failed Acquire left no lock behind";
}

TEST(LocalCoordinatorTest, CorruptHeadIsDataLoss) {
  LocalBackend backend;
  Result<std::unique_ptr<VolumeCoordinator>> a = backend.Make();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(WriteFileAtomic(backend.dir() + "/data.head", "{\"token\":\"x\"}", 0600).ok());
  Result<std::optional<VolumeHead>> head = (*a)->ReadHead("data");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code(), Code::kDataLoss);
  EXPECT_NE(head.error().message().find("data.head"), std::string::npos);
}

}  // namespace
}  // namespace cricket::storage
