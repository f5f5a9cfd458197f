#include "storage/volumes/coordination/lease_keeper.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

using std::chrono::milliseconds;

// Answers KeepAlive from a script (the last answer repeats) and counts the calls.
class ScriptedCoordinator : public VolumeCoordinator {
 public:
  explicit ScriptedCoordinator(std::deque<Result<void>> answers) : answers_(std::move(answers)) {}

  Result<void> KeepAlive(const VolumeLease& /*lease*/) override {
    std::lock_guard lock(mu_);
    ++calls_;
    changed_.notify_all();
    Result<void> answer = answers_.front();
    if (answers_.size() > 1) {
      answers_.pop_front();
    }
    return answer;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool WaitForCalls(int n, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return calls_ >= n; });
  }

  Result<VolumeLease> Acquire(const std::string&, const std::string&) override {
    return Error(Code::kUnimplemented, "");
  }
  Result<void> Release(const VolumeLease&) override { return Ok(); }
  Result<std::optional<VolumeHead>> ReadHead(const std::string&) override {
    return std::optional<VolumeHead>();
  }
  Result<void> PublishHead(const VolumeLease&, const VolumeHead&) override { return Ok(); }
  Result<std::vector<VolumeOwner>> List() override { return std::vector<VolumeOwner>(); }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Result<void>> answers_;  // Guarded by mu_.
  int calls_ = 0;                     // Guarded by mu_.
};

// Collects on_lost calls.
struct LossLog {
  void Record(const Error& error) {
    std::lock_guard lock(mu);
    errors.push_back(error);
    changed.notify_all();
  }
  bool WaitForOne(milliseconds timeout) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, timeout, [&] { return !errors.empty(); });
  }
  std::mutex mu;
  std::condition_variable changed;
  std::vector<Error> errors;
};

VolumeLease Lease(std::chrono::seconds ttl) {
  return {.volume = "data", .node = "node-a", .token = 7, .lease_id = 1, .ttl = ttl};
}

TEST(LeaseKeeperTest, RenewsPeriodicallyWhileHeld) {
  ScriptedCoordinator coordinator({Ok()});
  LossLog log;
  auto keeper =
      LeaseKeeper::Start(coordinator, Lease(std::chrono::seconds(10)),
                         [&](const Error& e) { log.Record(e); }, {.interval = milliseconds(5)});
  EXPECT_TRUE(coordinator.WaitForCalls(5, milliseconds(60000)));
  EXPECT_FALSE(keeper->lost().has_value());
  EXPECT_TRUE(log.errors.empty());
}

TEST(LeaseKeeperTest, ReportsAbortedOnceAndStops) {
  ScriptedCoordinator coordinator({Ok(), Error(Code::kAborted, "lease on volume data expired")});
  LossLog log;
  auto keeper =
      LeaseKeeper::Start(coordinator, Lease(std::chrono::seconds(10)),
                         [&](const Error& e) { log.Record(e); }, {.interval = milliseconds(5)});
  ASSERT_TRUE(log.WaitForOne(milliseconds(60000)));
  int calls = coordinator.calls();
  EXPECT_EQ(calls, 2);
  keeper.reset();  // joins: the thread had stopped on its own
  EXPECT_EQ(coordinator.calls(), calls);
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0].code(), Code::kAborted);
  EXPECT_NE(log.errors[0].message().find("expired"), std::string::npos);
}

TEST(LeaseKeeperTest, UnreachableForAWholeTtlIsLoss) {
  ScriptedCoordinator coordinator({Error(Code::kUnavailable, "etcd at http://x is unreachable")});
  LossLog log;
  auto started = std::chrono::steady_clock::now();
  auto keeper =
      LeaseKeeper::Start(coordinator, Lease(std::chrono::seconds(1)),
                         [&](const Error& e) { log.Record(e); }, {.interval = milliseconds(20)});
  ASSERT_TRUE(log.WaitForOne(milliseconds(60000)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(1))
      << "transient errors are retried until the TTL has passed";
  ASSERT_TRUE(keeper->lost().has_value());
  EXPECT_EQ(keeper->lost()->code(), Code::kAborted);
  EXPECT_NE(keeper->lost()->message().find("unreachable"), std::string::npos);
}

TEST(LeaseKeeperTest, DefaultIntervalIsAThirdOfTheTtlAndDestructionIsPrompt) {
  ScriptedCoordinator coordinator({Ok()});
  auto started = std::chrono::steady_clock::now();
  { auto keeper = LeaseKeeper::Start(coordinator, Lease(std::chrono::seconds(30)), nullptr); }
  // Prompt = before the 10 s interval ran out; a tighter bound failed on loaded machines.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(9));
  EXPECT_EQ(coordinator.calls(), 0) << "the first renewal is due after 10 s";
}

}  // namespace
}  // namespace cricket::storage
