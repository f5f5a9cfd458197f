// VolumeManager with the local coordinator and the dir store: two "nodes" (two managers with
// their own roots) share one coordination dir and one store, as two cricketd on one machine do.

#include "storage/volumes/volume_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

using namespace std::chrono_literals;

class VolumeManagerTest : public ::testing::Test {
 protected:
  VolumeManagerOptions Options(const std::string& node) {
    VolumeManagerOptions options;
    options.root = dir_.Join(node + "/volumes");
    options.node = node;
    options.coordination = CoordinatorOptions::Local(dir_.Join("coordination"));
    options.snapshot_dir = dir_.Join("store");
    options.snapshot_interval = 100ms;
    options.keepalive_interval = 50ms;
    return options;
  }

  std::unique_ptr<VolumeManager> Open(const std::string& node) {
    auto m = VolumeManager::Open(Options(node));
    EXPECT_TRUE(m.ok()) << m.error().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  static void Write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(path, text, 0644).ok());
  }
  static std::string Read(const std::string& path) { return ReadFile(path).value_or("<none>"); }

  ::cricket::testing::TempDir dir_{"volmgr"};
};

TEST_F(VolumeManagerTest, FollowsFromOneNodeToAnother) {
  auto a = Open("node-a");
  auto b = Open("node-b");
  auto path = a->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok()) << path.error().ToString();
  EXPECT_EQ(*path, a->DataPath("data"));
  Write(*path + "/hello", "from a");
  ASSERT_TRUE(MakeDirs(*path + "/sub/dir", 0755).ok());
  Write(*path + "/sub/dir/f", "nested");

  auto taken = b->Attach("data", "pod2", "ctr2");
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code(), Code::kUnavailable);
  EXPECT_NE(taken.error().message().find("node-a"), std::string::npos) << taken.error().message();

  ASSERT_TRUE(a->Detach("data", "ctr1").ok());
  EXPECT_TRUE(a->Attached().empty());
  auto on_b = b->Attach("data", "pod2", "ctr2");
  ASSERT_TRUE(on_b.ok()) << on_b.error().ToString();
  EXPECT_EQ(Read(*on_b + "/hello"), "from a");
  EXPECT_EQ(Read(*on_b + "/sub/dir/f"), "nested");

  // Back to A with a change and a deletion.
  Write(*on_b + "/hello", "from b");
  std::filesystem::remove(*on_b + "/sub/dir/f");
  ASSERT_TRUE(b->Detach("data", "ctr2").ok());
  auto back = a->Attach("data", "pod3", "ctr3");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(Read(*back + "/hello"), "from b");
  EXPECT_FALSE(std::filesystem::exists(*back + "/sub/dir/f"));
  ASSERT_TRUE(a->Detach("data", "ctr3").ok());
}

std::string RandomBytes(size_t n) {
  std::mt19937 gen(42);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(gen());
  }
  return out;
}

TEST_F(VolumeManagerTest, ReportsTheBytesEachSnapshotAndRestoreMoved) {
  auto options_a = Options("node-a");
  auto options_b = Options("node-b");
  options_a.snapshot_interval = options_b.snapshot_interval = 1h;  // only explicit snapshots
  auto a = VolumeManager::Open(options_a);
  auto b = VolumeManager::Open(options_b);
  ASSERT_TRUE(a.ok() && b.ok());
  auto path = (*a)->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok()) << path.error().ToString();
  Write(*path + "/big", RandomBytes(256 << 10));
  auto first = (*a)->SnapshotNow("data");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_GE(first->bytes_uploaded, 256 << 10);
  ASSERT_EQ((*a)->Attached().size(), 1u);
  EXPECT_EQ((*a)->Attached()[0].restore_bytes_downloaded, 0);
  EXPECT_EQ((*a)->Attached()[0].bytes_uploaded, first->bytes_uploaded);
  EXPECT_EQ((*a)->Attached()[0].last_snapshot_bytes_uploaded, first->bytes_uploaded);
  ASSERT_TRUE((*a)->Detach("data", "ctr1").ok());

  auto on_b = (*b)->Attach("data", "pod2", "ctr2");
  ASSERT_TRUE(on_b.ok()) << on_b.error().ToString();
  ASSERT_EQ((*b)->Attached().size(), 1u);
  EXPECT_GE((*b)->Attached()[0].restore_bytes_downloaded, 256 << 10);
  EXPECT_EQ((*b)->Attached()[0].bytes_uploaded, 0);
  Write(*on_b + "/small", RandomBytes(4 << 10));
  auto change = (*b)->SnapshotNow("data");
  ASSERT_TRUE(change.ok()) << change.error().ToString();
  EXPECT_LT(change->bytes_uploaded, 64 << 10);
  EXPECT_EQ((*b)->Attached()[0].last_snapshot_bytes_uploaded, change->bytes_uploaded);
  ASSERT_TRUE((*b)->Detach("data", "ctr2").ok());

  // A's layer cache has the first layer: only the change comes back.
  auto back = (*a)->Attach("data", "pod3", "ctr3");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ASSERT_EQ((*a)->Attached().size(), 1u);
  EXPECT_GT((*a)->Attached()[0].restore_bytes_downloaded, 0);
  EXPECT_LT((*a)->Attached()[0].restore_bytes_downloaded, 64 << 10);
  ASSERT_TRUE((*a)->Detach("data", "ctr3").ok());
}

TEST_F(VolumeManagerTest, CountsUsersAndReleasesOnTheLast) {
  auto a = Open("node-a");
  auto b = Open("node-b");
  ASSERT_TRUE(a->Attach("data", "pod1", "ctr1").ok());
  ASSERT_TRUE(a->Attach("data", "pod1", "ctr2").ok());
  ASSERT_TRUE(a->Attach("data", "pod1", "ctr2").ok());  // idempotent
  ASSERT_EQ(a->Attached().size(), 1u);
  EXPECT_EQ(a->Attached()[0].users.size(), 2u);
  EXPECT_EQ(a->AttachedToPod("pod1").size(), 1u);
  EXPECT_TRUE(a->AttachedToPod("other").empty());
  ASSERT_TRUE(a->Detach("data", "ctr1").ok());
  EXPECT_FALSE(b->Attach("data", "pod2", "ctr9").ok());
  ASSERT_TRUE(a->DetachPod("pod1").ok());
  EXPECT_TRUE(b->Attach("data", "pod2", "ctr9").ok());
}

TEST_F(VolumeManagerTest, PeriodicSnapshotsPublishTheHead) {
  auto a = Open("node-a");
  auto path = a->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok());
  Write(*path + "/f", "v1");
  std::string head;
  for (int i = 0; i < 100 && head.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    auto listed = a->List();
    ASSERT_TRUE(listed.ok());
    if (!listed->empty() && (*listed)[0].head) {
      head = (*listed)[0].head->manifest_digest;
    }
  }
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(a->Attached()[0].head, head);
  EXPECT_GE(a->Attached()[0].snapshots, 1);
  auto now = a->SnapshotNow("data");
  ASSERT_TRUE(now.ok()) << now.error().ToString();
  EXPECT_FALSE(now->new_layer);  // nothing changed since
}

TEST_F(VolumeManagerTest, RestartResumesTheLease) {
  auto a = Open("node-a");
  auto path = a->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok());
  Write(*path + "/f", "kept");
  a.reset();  // cricketd restarts: the lease is not released
  a = Open("node-a");
  ASSERT_EQ(a->Attached().size(), 1u);
  EXPECT_FALSE(a->Attached()[0].stale);
  auto b = Open("node-b");
  EXPECT_EQ(b->Attach("data", "pod2", "ctr2").error().code(), Code::kUnavailable);
  ASSERT_TRUE(a->Detach("data", "ctr1").ok());
  auto on_b = b->Attach("data", "pod2", "ctr2");
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(Read(*on_b + "/f"), "kept");
}

TEST_F(VolumeManagerTest, LostLeaseMakesTheCopyStale) {
  auto a = Open("node-a");
  auto path = a->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok());
  Write(*path + "/f", "published");
  ASSERT_TRUE(a->SnapshotNow("data").ok());
  a.reset();
  // A "dies" (its lock goes with it); B takes the volume before A comes back.
  auto b = Open("node-b");
  auto on_b = b->Attach("data", "pod2", "ctr2");
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(Read(*on_b + "/f"), "published");
  Write(*on_b + "/f", "b's");
  a = Open("node-a");
  ASSERT_EQ(a->Attached().size(), 1u);
  EXPECT_TRUE(a->Attached()[0].stale);
  Write(a->DataPath("data") + "/f", "a's stale write");
  EXPECT_EQ(a->SnapshotNow("data").error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(a->Attach("data", "pod1", "ctr3").error().code(), Code::kUnavailable);
  ASSERT_TRUE(a->Detach("data", "ctr1").ok());  // no publish, no release of B's lease
  ASSERT_TRUE(b->Detach("data", "ctr2").ok());
  auto again = a->Attach("data", "pod1", "ctr4");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Read(*again + "/f"), "b's");  // restored, not the stale copy
}

TEST_F(VolumeManagerTest, CorruptSnapshotFailsAttachAndLeavesNothing) {
  auto a = Open("node-a");
  auto path = a->Attach("data", "pod1", "ctr1");
  ASSERT_TRUE(path.ok());
  std::mt19937 random(7);
  std::string noise(100000, '\0');
  for (char& c : noise) {
    c = static_cast<char>(random());
  }
  Write(*path + "/f", noise);  // incompressible: its layer is the one big blob
  ASSERT_TRUE(a->Detach("data", "ctr1").ok());
  // Corrupt every blob of the store.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Join("store/blobs"))) {
    if (e.is_regular_file() && e.file_size() > 1000) {
      Write(e.path().string(), std::string(e.file_size(), 'y'));
    }
  }
  auto b = Open("node-b");
  auto failed = b->Attach("data", "pod2", "ctr2");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), Code::kDataLoss) << failed.error().ToString();
  EXPECT_TRUE(b->Attached().empty());
  EXPECT_FALSE(std::filesystem::exists(b->DataPath("data")));
  // The lease was given back.
  EXPECT_TRUE(a->Attach("data", "pod1", "ctr3").ok());
}

TEST_F(VolumeManagerTest, BadNamesAndOptions) {
  auto a = Open("node-a");
  EXPECT_EQ(a->Attach("../x", "p", "c").error().code(), Code::kInvalidArgument);
  auto options = Options("node-c");
  options.coordination.backend = "zookeeper";
  auto bad = VolumeManager::Open(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  options = Options("node-c");
  options.store = "s3";
  EXPECT_EQ(VolumeManager::Open(options).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::storage
