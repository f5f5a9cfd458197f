#include "storage/volumes/coordination/etcd_coordinator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "storage/volumes/coordination/lease_keeper.h"
#include "tests/support/etcd_fixture.h"
#include "tests/unit/storage/volumes_coordination/coordinator_conformance.h"

namespace cricket::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// One etcd per test (ctest runs each test in its own process); each coordinator is a node.
class EtcdBackend {
 public:
  std::string SkipReason() {
    if (testing::EtcdServer::FindBinary().empty()) {
      return "etcd is not installed (apt-get install etcd-server)";
    }
    std::string error;
    server_ = testing::EtcdServer::Start(&error);
    return server_ != nullptr ? "" : "start etcd: " + error;
  }
  Result<std::unique_ptr<VolumeCoordinator>> Make(seconds ttl = seconds(5)) {
    CoordinatorOptions options = CoordinatorOptions::Etcd({server_->endpoint()});
    options.lease_ttl = ttl;
    options.request_timeout = milliseconds(2000);
    return MakeCoordinator(options);
  }
  testing::EtcdServer& server() { return *server_; }

 private:
  std::unique_ptr<testing::EtcdServer> server_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(EtcdCoordinator, CoordinatorConformance, EtcdBackend);

class EtcdCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ETCD();
    std::string reason = backend_.SkipReason();
    ASSERT_EQ(reason, "");
  }
  std::unique_ptr<VolumeCoordinator> Node(seconds ttl) {
    Result<std::unique_ptr<VolumeCoordinator>> made = backend_.Make(ttl);
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }
  EtcdBackend backend_;
};

// Acquire until it succeeds or `limit` passes.
Result<VolumeLease> AcquireWithin(VolumeCoordinator& c, const std::string& node,
                                  milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (true) {
    Result<VolumeLease> lease = c.Acquire("data", node);
    if (lease.ok() || Clock::now() >= deadline) {
      return lease;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

TEST_F(EtcdCoordinatorTest, ExpiredLeaseHandsOverAndFencesTheOldHolder) {
  auto a = Node(seconds(1));
  auto b = Node(seconds(1));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Result<VolumeLease> old = a->Acquire("data", "node-a");
  ASSERT_TRUE(old.ok()) << old.error().ToString();
  EXPECT_EQ(old->ttl, seconds(1));
  ASSERT_TRUE(a->PublishHead(*old, {.manifest_digest = "sha256:a1", .token = 0}).ok());
  Result<VolumeLease> early = b->Acquire("data", "node-b");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), Code::kUnavailable);

  // node-a stops renewing (a crash or a partition); etcd lets the lease go after the TTL.
  auto started = Clock::now();
  Result<VolumeLease> taken = AcquireWithin(*b, "node-b", milliseconds(6000));
  ASSERT_TRUE(taken.ok()) << taken.error().ToString();
  EXPECT_GE(Clock::now() - started, milliseconds(500)) << "not before the TTL";
  EXPECT_GT(taken->token, old->token);

  Result<void> keep = a->KeepAlive(*old);
  ASSERT_FALSE(keep.ok());
  EXPECT_EQ(keep.error().code(), Code::kAborted) << keep.error().ToString();
  Result<void> publish = a->PublishHead(*old, {.manifest_digest = "sha256:a2", .token = 0});
  ASSERT_FALSE(publish.ok());
  EXPECT_EQ(publish.error().code(), Code::kAborted);
  EXPECT_NE(publish.error().message().find("fenced"), std::string::npos);
  EXPECT_NE(publish.error().message().find("node-b"), std::string::npos)
      << publish.error().message();

  Result<std::optional<VolumeHead>> head = b->ReadHead("data");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->manifest_digest, "sha256:a1") << "the last head node-a published stays";
  EXPECT_EQ((*head)->token, old->token);
  EXPECT_TRUE(b->Release(*taken).ok());
}

TEST_F(EtcdCoordinatorTest, KeeperHoldsTheLeasePastItsTtl) {
  auto a = Node(seconds(1));
  auto b = Node(seconds(1));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Result<VolumeLease> lease = a->Acquire("data", "node-a");
  ASSERT_TRUE(lease.ok()) << lease.error().ToString();
  auto keeper = LeaseKeeper::Start(*a, *lease, nullptr);
  std::this_thread::sleep_for(milliseconds(2500));
  Result<VolumeLease> refused = b->Acquire("data", "node-b");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_FALSE(keeper->lost().has_value());
  EXPECT_TRUE(a->PublishHead(*lease, {.manifest_digest = "sha256:x", .token = 0}).ok());
  keeper.reset();
  EXPECT_TRUE(a->Release(*lease).ok());
  EXPECT_TRUE(b->Acquire("data", "node-b").ok()) << "released at once, no TTL wait";
}

TEST_F(EtcdCoordinatorTest, KeeperReportsALeaseTakenAway) {
  auto a = Node(seconds(2));
  ASSERT_NE(a, nullptr);
  Result<VolumeLease> lease = a->Acquire("data", "node-a");
  ASSERT_TRUE(lease.ok()) << lease.error().ToString();
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Error> lost;
  auto keeper = LeaseKeeper::Start(*a, *lease,
                                   [&](const Error& e) {
                                     std::lock_guard lock(mu);
                                     lost = e;
                                     cv.notify_all();
                                   },
                                   {.interval = milliseconds(100)});
  ASSERT_TRUE(a->Release(*lease).ok());  // as `cricketctl volumes release` would
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, seconds(5), [&] { return lost.has_value(); }));
  EXPECT_EQ(lost->code(), Code::kAborted) << lost->ToString();
}

TEST_F(EtcdCoordinatorTest, LeaseSurvivesACoordinatorRestart) {
  VolumeLease lease;
  {
    auto before = Node(seconds(5));
    ASSERT_NE(before, nullptr);
    Result<VolumeLease> acquired = before->Acquire("data", "node-a");
    ASSERT_TRUE(acquired.ok()) << acquired.error().ToString();
    lease = *acquired;
  }
  auto after = Node(seconds(5));
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->KeepAlive(lease).ok()) << "a persisted lease resumes after a restart";
  EXPECT_TRUE(after->PublishHead(lease, {.manifest_digest = "sha256:r", .token = 0}).ok());
  EXPECT_TRUE(after->Release(lease).ok());
}

TEST_F(EtcdCoordinatorTest, EtcdOutageIsUnavailableNotLoss) {
  auto a = Node(seconds(5));
  ASSERT_NE(a, nullptr);
  Result<VolumeLease> lease = a->Acquire("data", "node-a");
  ASSERT_TRUE(lease.ok()) << lease.error().ToString();
  backend_.server().Kill();
  auto started = Clock::now();
  Result<void> keep = a->KeepAlive(*lease);
  ASSERT_FALSE(keep.ok());
  EXPECT_EQ(keep.error().code(), Code::kUnavailable) << keep.error().ToString();
  EXPECT_NE(keep.error().message().find(backend_.server().endpoint()), std::string::npos)
      << keep.error().message();
  EXPECT_LT(Clock::now() - started, seconds(3));
}

TEST(EtcdUnreachableTest, FailsFastNamingTheEndpoint) {
  int port = testing::FreeLoopbackPort();  // nothing listens there
  std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  CoordinatorOptions options = CoordinatorOptions::Etcd({endpoint});
  options.request_timeout = milliseconds(1000);
  Result<std::unique_ptr<VolumeCoordinator>> c = MakeCoordinator(options);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto started = Clock::now();
  Result<VolumeLease> lease = (*c)->Acquire("data", "node-a");
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code(), Code::kUnavailable) << lease.error().ToString();
  EXPECT_NE(lease.error().message().find(endpoint), std::string::npos) << lease.error().message();
  EXPECT_LT(Clock::now() - started, seconds(3));
  Result<std::vector<VolumeOwner>> list = (*c)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code(), Code::kUnavailable);
}

TEST(EtcdUnreachableTest, SilentPeerHitsTheDeadline) {
  // A listening socket that never answers: the connection is made, no HTTP/2 follows.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  CoordinatorOptions options = CoordinatorOptions::Etcd({endpoint});
  options.request_timeout = milliseconds(500);
  Result<std::unique_ptr<VolumeCoordinator>> c = MakeCoordinator(options);
  ASSERT_TRUE(c.ok());
  auto started = Clock::now();
  Result<std::optional<VolumeHead>> head = (*c)->ReadHead("data");
  auto took = Clock::now() - started;
  ::close(fd);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code(), Code::kUnavailable) << head.error().ToString();
  EXPECT_NE(head.error().message().find(endpoint), std::string::npos);
  EXPECT_LT(took, seconds(3));
}

}  // namespace
}  // namespace cricket::storage
