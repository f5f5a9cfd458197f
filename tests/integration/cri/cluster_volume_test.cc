// Portable volumes on a hack/cluster cluster (issue #7): two cricketd nodes in their own network
// namespaces, ownership in etcd, snapshots in the registry. Root.

#include <cstdint>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/subprocess.h"
#include "tests/integration/cri/cluster_volume_fixture.h"

namespace cricket {
namespace {
using ::cricket::testing::CountContainers;
using ::cricket::testing::FindVolume;
using ::cricket::testing::SnapshotVolume;
using ::cricket::testing::StartContainer;

class ClusterVolumeTest : public ::cricket::testing::ClusterVolumeFixture {
 protected:
  ::cricket::testing::ClusterOptions Options() override {
    return {.nodes = 2,
            .lease_ttl_seconds = 5,
            .snapshot_interval_seconds = 30,
            .etcd_timeout_ms = 1000};
  }
};

// 100 MiB in 400 files of 256 KiB across 20 directories.
constexpr const char* kWrite100MiB =
    "i=0; while [ $i -lt 400 ]; do d=/data/d$((i % 20)); busybox mkdir -p $d; "
    "busybox dd if=/dev/urandom of=$d/f$i bs=256k count=1 2>/dev/null || exit 1; "
    "i=$((i+1)); done";

constexpr int64_t kMiB = 1 << 20;

TEST_F(ClusterVolumeTest, HundredMegabytesFollowThePodAndOnlyChangesComeBack) {
  auto& a = node(0);
  auto& b = node(1);
  auto [pod_a, ctr_a] = PodWithVolume(a, "writer", "bulk");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a, ctr_a, kWrite100MiB);
  const std::string sums = Exec(a, ctr_a, kChecksums);
  EXPECT_EQ(Exec(a, ctr_a, "busybox find /data -type f | busybox wc -l"), "400\n");
  // The admin API reports the bytes each snapshot moved (random data does not compress).
  ::cricket::admin::v1::SnapshotVolumeResponse first;
  ASSERT_TRUE(SnapshotVolume(*a.admin, "bulk", &first).ok());
  EXPECT_GE(first.bytes_uploaded(), 100 * kMiB);
  auto row_a = Volume(a, "bulk");
  ASSERT_TRUE(row_a.has_value());
  EXPECT_EQ(row_a->last_snapshot_bytes_uploaded(), first.bytes_uploaded());
  EXPECT_GE(row_a->bytes_uploaded(), first.bytes_uploaded());
  EXPECT_EQ(row_a->restore_bytes_downloaded(), 0) << "a new volume has nothing to restore";
  RemovePod(a, pod_a);  // the final snapshot goes to the registry, the lease back to etcd

  auto [pod_b, ctr_b] = PodWithVolume(b, "reader", "bulk");
  ASSERT_FALSE(ctr_b.empty());
  EXPECT_EQ(Exec(b, ctr_b, kChecksums), sums);
  auto row_b = Volume(b, "bulk");
  ASSERT_TRUE(row_b.has_value());
  EXPECT_EQ(row_b->owner(), b.name);
  EXPECT_GE(row_b->restore_bytes_downloaded(), 100 * kMiB);
  auto inspected =
      RunSubprocess({CRICKETCTL_PATH, "--socket", b.socket, "volumes", "inspect", "bulk"});
  ASSERT_TRUE(inspected.ok()) << inspected.error().ToString();
  EXPECT_NE(inspected->out.find("\"restore_bytes_downloaded\": \"" +
                                std::to_string(row_b->restore_bytes_downloaded()) + "\""),
            std::string::npos)
      << inspected->out;

  // 1 MiB changes on B; going back to A moves only that.
  Exec(b, ctr_b, "busybox dd if=/dev/urandom of=/data/d0/changed bs=1M count=1 2>/dev/null");
  const std::string changed_sums = Exec(b, ctr_b, kChecksums);
  ::cricket::admin::v1::SnapshotVolumeResponse change;
  ASSERT_TRUE(SnapshotVolume(*b.admin, "bulk", &change).ok());
  EXPECT_TRUE(change.new_layer());
  EXPECT_GE(change.bytes_uploaded(), kMiB);
  EXPECT_LE(change.bytes_uploaded(), 2 * kMiB);
  EXPECT_EQ(Volume(b, "bulk")->last_snapshot_bytes_uploaded(), change.bytes_uploaded());
  RemovePod(b, pod_b);
  auto [pod_back, ctr_back] = PodWithVolume(a, "writer-again", "bulk");
  ASSERT_FALSE(ctr_back.empty());
  EXPECT_EQ(Exec(a, ctr_back, kChecksums), changed_sums);
  auto back = Volume(a, "bulk");
  ASSERT_TRUE(back.has_value());
  EXPECT_GE(back->restore_bytes_downloaded(), kMiB);
  EXPECT_LE(back->restore_bytes_downloaded(), 2 * kMiB);
}

// The container must not start on half-restored data, and nothing may stay attached.
void ExpectNothingAttached(::cricket::testing::ClusterNode& n, const std::string& volume) {
  EXPECT_EQ(CountContainers(*n.runtime), 0);
  auto row = FindVolume(*n.admin, volume);
  ASSERT_TRUE(row.has_value());
  EXPECT_FALSE(row->attached_here());
  EXPECT_EQ(row->owner(), "") << "the lease went back";
  EXPECT_FALSE(std::filesystem::exists(n.data(volume)));
}

TEST_F(ClusterVolumeTest, UnreachableRegistryOrEtcdFailsCreateNamingItAndLeavesNothing) {
  auto& a = node(0);
  auto& b = node(1);
  auto [pod_a, ctr_a] = PodWithVolume(a, "writer", "remote");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a, ctr_a, "echo kept > /data/f");
  RemovePod(a, pod_a);

  auto config = PodConfig(b, "reader");
  std::string pod = RunPodOn(b, config);
  std::string ctr;

  // The registry is down: the head cannot be restored.
  SetService("registry", false);
  grpc::Status no_registry = CreateWithVolume(b, pod, config, "remote", &ctr);
  EXPECT_FALSE(no_registry.ok());
  EXPECT_NE(no_registry.error_message().find(cluster_->registry()), std::string::npos)
      << no_registry.error_message();
  EXPECT_NE(no_registry.error_message().find("restore volume remote"), std::string::npos)
      << no_registry.error_message();
  ExpectNothingAttached(b, "remote");
  SetService("registry", true);

  // B is cut off from etcd: nobody can tell it the volume is free.
  Cut(b);
  grpc::Status no_etcd = CreateWithVolume(b, pod, config, "remote", &ctr);
  EXPECT_EQ(no_etcd.error_code(), grpc::StatusCode::UNAVAILABLE) << no_etcd.error_message();
  EXPECT_NE(no_etcd.error_message().find(cluster_->etcd()), std::string::npos)
      << no_etcd.error_message();
  EXPECT_EQ(CountContainers(*b.runtime), 0);
  Reconnect(b);
  ExpectNothingAttached(b, "remote");

  // Both back: kubelet's retry works and sees A's data.
  grpc::Status retried = CreateWithVolume(b, pod, config, "remote", &ctr);
  ASSERT_TRUE(retried.ok()) << retried.error_message();
  ASSERT_TRUE(StartContainer(*b.runtime, ctr).ok());
  EXPECT_EQ(Exec(b, ctr, "cat /data/f"), "kept\n");
}

}  // namespace
}  // namespace cricket
