#pragma once

// The behaviour every VolumeCoordinator backend must show, as one typed test suite.
// A backend instantiates it with a Backend type offering:
//   std::string SkipReason();   // "" when usable; else the test skips (fails under CI)
//   Result<std::unique_ptr<VolumeCoordinator>> Make();  // another node's coordinator on the
//                                                       // same cluster (dir, etcd prefix)
// The Backend object lives for one test, so each test sees a fresh cluster.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/volumes/coordination/coordinator.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {

template <typename Backend>
class CoordinatorConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = backend_.SkipReason();
    if (!reason.empty()) {
      if (::cricket::testing::InCi()) {
        FAIL() << reason;
      }
      GTEST_SKIP() << reason;
    }
  }

  std::unique_ptr<VolumeCoordinator> Node() {
    Result<std::unique_ptr<VolumeCoordinator>> made = backend_.Make();
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(CoordinatorConformance);

TYPED_TEST_P(CoordinatorConformance, AcquireReleaseReacquire) {
  auto a = this->Node();
  ASSERT_NE(a, nullptr);

  Result<VolumeLease> first = a->Acquire("data", "node-a");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->volume, "data");
  EXPECT_EQ(first->node, "node-a");
  EXPECT_GT(first->token, 0);
  EXPECT_TRUE(a->KeepAlive(*first).ok());
  ASSERT_TRUE(a->Release(*first).ok());
  EXPECT_TRUE(a->Release(*first).ok()) << "Release is idempotent";

  Result<VolumeLease> second = a->Acquire("data", "node-a");
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_GT(second->token, first->token);
  EXPECT_TRUE(a->KeepAlive(*second).ok());
  Result<void> old = a->KeepAlive(*first);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code(), Code::kAborted) << old.error().ToString();
  EXPECT_TRUE(a->Release(*second).ok());
}

TYPED_TEST_P(CoordinatorConformance, OwnedVolumeIsUnavailableNamingTheOwner) {
  auto a = this->Node();
  auto b = this->Node();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Result<VolumeLease> held = a->Acquire("data", "node-a");
  ASSERT_TRUE(held.ok()) << held.error().ToString();

  Result<VolumeLease> refused = b->Acquire("data", "node-b");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_NE(refused.error().message().find("volume data is owned by node node-a"),
            std::string::npos)
      << refused.error().message();
  Result<VolumeLease> again = a->Acquire("data", "node-a");
  EXPECT_FALSE(again.ok()) << "a lease is held once, also by its own node";

  Result<VolumeLease> other = b->Acquire("logs", "node-b");
  EXPECT_TRUE(other.ok()) << "volumes are independent";

  ASSERT_TRUE(a->Release(*held).ok());
  Result<VolumeLease> taken = b->Acquire("data", "node-b");
  ASSERT_TRUE(taken.ok()) << taken.error().ToString();
  EXPECT_GT(taken->token, held->token);
}

TYPED_TEST_P(CoordinatorConformance, RacingNodesExactlyOneWins) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<VolumeCoordinator>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(this->Node());
    ASSERT_NE(nodes.back(), nullptr);
  }
  std::vector<std::optional<Result<VolumeLease>>> results(kNodes);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kNodes) {
      }
      results[i].emplace(nodes[i]->Acquire("shared", "node-" + std::to_string(i)));
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  int winner = -1;
  for (int i = 0; i < kNodes; ++i) {
    if (results[i]->ok()) {
      EXPECT_EQ(winner, -1) << "two nodes won: " << winner << " and " << i;
      winner = i;
    }
  }
  ASSERT_NE(winner, -1) << "nobody won: " << results[0]->error().ToString();
  for (int i = 0; i < kNodes; ++i) {
    if (i != winner) {
      EXPECT_EQ(results[i]->error().code(), Code::kUnavailable);
      EXPECT_NE(results[i]->error().message().find("owned by node node-" + std::to_string(winner)),
                std::string::npos)
          << results[i]->error().message();
    }
  }
}

TYPED_TEST_P(CoordinatorConformance, HeadRoundTrip) {
  auto a = this->Node();
  auto b = this->Node();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Result<std::optional<VolumeHead>> none = b->ReadHead("data");
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_FALSE(none->has_value());

  Result<VolumeLease> lease = a->Acquire("data", "node-a");
  ASSERT_TRUE(lease.ok()) << lease.error().ToString();
  ASSERT_TRUE(a->PublishHead(*lease, {.manifest_digest = "sha256:1111", .token = 0}).ok());
  ASSERT_TRUE(a->PublishHead(*lease, {.manifest_digest = "sha256:2222", .token = 999}).ok());

  Result<std::optional<VolumeHead>> head = b->ReadHead("data");
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->manifest_digest, "sha256:2222");
  EXPECT_EQ((*head)->token, lease->token) << "the stored token is the publisher's";

  ASSERT_TRUE(a->Release(*lease).ok());
  Result<std::optional<VolumeHead>> kept = b->ReadHead("data");
  ASSERT_TRUE(kept.ok() && kept->has_value()) << "the head outlives the lease";
  EXPECT_EQ((*kept)->manifest_digest, "sha256:2222");
}

TYPED_TEST_P(CoordinatorConformance, StaleLeaseIsFenced) {
  auto a = this->Node();
  auto b = this->Node();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Result<VolumeLease> old = a->Acquire("data", "node-a");
  ASSERT_TRUE(old.ok()) << old.error().ToString();
  ASSERT_TRUE(a->Release(*old).ok());
  Result<VolumeLease> current = b->Acquire("data", "node-b");
  ASSERT_TRUE(current.ok()) << current.error().ToString();
  ASSERT_TRUE(b->PublishHead(*current, {.manifest_digest = "sha256:bbbb", .token = 0}).ok());

  Result<void> publish = a->PublishHead(*old, {.manifest_digest = "sha256:aaaa", .token = 0});
  ASSERT_FALSE(publish.ok());
  EXPECT_EQ(publish.error().code(), Code::kAborted);
  EXPECT_NE(publish.error().message().find("fenced"), std::string::npos)
      << publish.error().message();
  Result<void> keep = a->KeepAlive(*old);
  ASSERT_FALSE(keep.ok());
  EXPECT_EQ(keep.error().code(), Code::kAborted);

  Result<std::optional<VolumeHead>> head = a->ReadHead("data");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->manifest_digest, "sha256:bbbb");
  EXPECT_EQ((*head)->token, current->token);
  EXPECT_TRUE(b->KeepAlive(*current).ok()) << "the stale attempts did not disturb the owner";
}

TYPED_TEST_P(CoordinatorConformance, ListShowsOwnersAndHeads) {
  auto a = this->Node();
  ASSERT_NE(a, nullptr);
  Result<VolumeLease> owned = a->Acquire("alpha", "node-a");
  ASSERT_TRUE(owned.ok()) << owned.error().ToString();
  Result<VolumeLease> released = a->Acquire("beta", "node-a");
  ASSERT_TRUE(released.ok()) << released.error().ToString();
  ASSERT_TRUE(a->PublishHead(*released, {.manifest_digest = "sha256:beta", .token = 0}).ok());
  ASSERT_TRUE(a->Release(*released).ok());
  Result<VolumeLease> gone = a->Acquire("gamma", "node-a");
  ASSERT_TRUE(gone.ok()) << gone.error().ToString();
  ASSERT_TRUE(a->Release(*gone).ok());

  Result<std::vector<VolumeOwner>> list = a->List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->size(), 2u) << "gamma has neither owner nor head";
  EXPECT_EQ((*list)[0].volume, "alpha");
  EXPECT_EQ((*list)[0].node, "node-a");
  EXPECT_EQ((*list)[0].token, owned->token);
  EXPECT_FALSE((*list)[0].head.has_value());
  EXPECT_EQ((*list)[1].volume, "beta");
  EXPECT_EQ((*list)[1].node, "");
  ASSERT_TRUE((*list)[1].head.has_value());
  EXPECT_EQ((*list)[1].head->manifest_digest, "sha256:beta");
}

TYPED_TEST_P(CoordinatorConformance, BadNamesAreInvalidArgument) {
  auto a = this->Node();
  ASSERT_NE(a, nullptr);
  for (const char* volume : {"", "../etc", "a/b", ".hidden", "sp ace"}) {
    Result<VolumeLease> lease = a->Acquire(volume, "node-a");
    ASSERT_FALSE(lease.ok()) << volume;
    EXPECT_EQ(lease.error().code(), Code::kInvalidArgument) << volume;
    EXPECT_NE(lease.error().message().find("volume name"), std::string::npos);
  }
  for (const char* node : {"", "a/b", "with space"}) {
    Result<VolumeLease> lease = a->Acquire("data", node);
    ASSERT_FALSE(lease.ok()) << node;
    EXPECT_EQ(lease.error().code(), Code::kInvalidArgument) << node;
  }
  Result<std::optional<VolumeHead>> head = a->ReadHead("../x");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code(), Code::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(CoordinatorConformance, AcquireReleaseReacquire,
                            OwnedVolumeIsUnavailableNamingTheOwner, RacingNodesExactlyOneWins,
                            HeadRoundTrip, StaleLeaseIsFenced, ListShowsOwnersAndHeads,
                            BadNamesAreInvalidArgument);

}  // namespace cricket::storage
