// Portable volumes across a network partition (issue #7), on a hack/cluster cluster: node A's
// link to the fabric (etcd, registry, node B) is cut while it owns a volume. A's lease expires,
// B takes the volume over with the last snapshot A published before the cut, and A — once
// reconnected — is fenced: its copy is stale, never published and never served again. Root.

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/cri/cluster_volume_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::CountContainers;
using ::cricket::testing::FindVolume;
using ::cricket::testing::SnapshotVolume;
using ::cricket::testing::StartContainer;
using Clock = std::chrono::steady_clock;

class VolumePartitionTest : public ::cricket::testing::ClusterVolumeFixture {
 protected:
  ::cricket::testing::ClusterOptions Options() override {
    // Short lease and etcd deadline: the partition is noticed in seconds.
    return {.nodes = 2,
            .lease_ttl_seconds = 2,
            .snapshot_interval_seconds = 0.5,
            .etcd_timeout_ms = 500};
  }

  // CreateContainer on `n` retried while UNAVAILABLE, as kubelet does, for up to `limit`.
  grpc::Status CreateRetrying(::cricket::testing::ClusterNode& n, const std::string& pod,
                              const ::runtime::v1::PodSandboxConfig& config,
                              const std::string& volume, std::string* ctr,
                              grpc::Status* first_refusal, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
      grpc::Status status = CreateWithVolume(n, pod, config, volume, ctr);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE || Clock::now() >= deadline) {
        return status;
      }
      if (first_refusal->ok()) {
        *first_refusal = status;
      }
      std::this_thread::sleep_for(200ms);
    }
  }
};

TEST_F(VolumePartitionTest, CutOffOwnerLosesTheVolumeAndIsFencedAfterReconnecting) {
  auto& a = node(0);
  auto& b = node(1);
  auto [pod_a, ctr_a] = PodWithVolume(a, "writer", "ledger");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a, ctr_a, "echo v1 > /data/f");
  ::cricket::admin::v1::SnapshotVolumeResponse published;
  grpc::Status snapped = SnapshotVolume(*a.admin, "ledger", &published);
  ASSERT_TRUE(snapped.ok()) << snapped.error_message();
  auto owned = Volume(a, "ledger");
  ASSERT_TRUE(owned.has_value());
  ASSERT_EQ(owned->owner(), a.name);
  ASSERT_EQ(owned->head(), published.manifest_digest());
  const int64_t token_a = owned->token();

  Cut(a);
  const auto cut_at = Clock::now();
  // Written after the cut: A can never publish it.
  Exec(a, ctr_a, "echo after-the-cut > /data/f");

  // B: refused while A's lease lives, then attached once it expired.
  auto config_b = PodConfig(b, "reader");
  std::string pod_b = RunPodOn(b, config_b);
  std::string ctr_b;
  grpc::Status refusal;
  grpc::Status created = CreateRetrying(b, pod_b, config_b, "ledger", &ctr_b, &refusal, 30s);
  ASSERT_TRUE(created.ok()) << created.error_message();
  const auto waited = Clock::now() - cut_at;
  EXPECT_NE(refusal.error_message().find("owned by node " + a.name), std::string::npos)
      << "first refusal: " << refusal.error_message();
  // A renewed at most a third of the TTL before the cut.
  EXPECT_GE(waited, 1s);
  ASSERT_TRUE(StartContainer(*b.runtime, ctr_b).ok());
  EXPECT_EQ(Exec(b, ctr_b, "cat /data/f"), "v1\n");
  auto taken = Volume(b, "ledger");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->owner(), b.name);
  EXPECT_GT(taken->token(), token_a);
  EXPECT_EQ(taken->head(), published.manifest_digest());

  // B moves on and publishes.
  Exec(b, ctr_b, "echo from-b > /data/f");
  ::cricket::admin::v1::SnapshotVolumeResponse from_b;
  ASSERT_TRUE(SnapshotVolume(*b.admin, "ledger", &from_b).ok());
  ASSERT_NE(from_b.manifest_digest(), published.manifest_digest());

  // A reconnects: its copy is stale (it noticed the lost lease on its own).
  Reconnect(a);
  std::optional<::cricket::admin::v1::Volume> stale;
  for (auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    stale = FindVolume(*a.admin, "ledger");
    if (stale && stale->stale()) {
      break;
    }
  }
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale());
  EXPECT_NE(stale->stale_reason().find("lease"), std::string::npos) << stale->stale_reason();
  EXPECT_EQ(stale->owner(), b.name);

  // Its publishes are refused: on demand, and the periodic ones (several periods pass).
  ::cricket::admin::v1::SnapshotVolumeResponse refused_snapshot;
  grpc::Status refused = SnapshotVolume(*a.admin, "ledger", &refused_snapshot);
  EXPECT_TRUE(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
              refused.error_code() == grpc::StatusCode::ABORTED)
      << refused.error_code() << " " << refused.error_message();
  std::this_thread::sleep_for(1500ms);
  auto head = Volume(b, "ledger");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->head(), from_b.manifest_digest());
  EXPECT_EQ(head->head_token(), taken->token());
  EXPECT_NE(cluster_->Logs(a).find("stale and will not be published again"), std::string::npos);

  // A does not serve its stale copy to a new pod, and removing its old pod publishes nothing.
  {
    auto config = PodConfig(a, "again");
    std::string pod = RunPodOn(a, config);
    std::string ctr;
    grpc::Status again = CreateWithVolume(a, pod, config, "ledger", &ctr);
    EXPECT_EQ(again.error_code(), grpc::StatusCode::UNAVAILABLE) << again.error_message();
    EXPECT_EQ(CountContainers(*a.runtime), 1);
    RemovePod(a, pod);
  }
  RemovePod(a, pod_a);
  EXPECT_EQ(Volume(b, "ledger")->head(), from_b.manifest_digest());
  EXPECT_FALSE(Volume(a, "ledger")->attached_here());

  // Handed back, A restores B's data instead of its own stale copy.
  RemovePod(b, pod_b);
  auto [pod_a2, ctr_a2] = PodWithVolume(a, "writer-again", "ledger");
  ASSERT_FALSE(ctr_a2.empty());
  EXPECT_EQ(Exec(a, ctr_a2, "cat /data/f"), "from-b\n");
}

}  // namespace
}  // namespace cricket
