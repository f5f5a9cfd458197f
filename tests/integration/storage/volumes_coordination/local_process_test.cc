// The local backend across processes: two cricketd processes on one machine contend through
// the lock files, and a killed holder's lock goes with it while its token stays fenced.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "storage/volumes/coordination/coordinator.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

// A child process that takes the lease on "data" as "node-child", reports its token through a
// pipe, and then waits for a byte: 'r' releases and exits 0; EOF exits without releasing.
class HolderProcess {
 public:
  explicit HolderProcess(const std::string& dir) {
    int to_parent[2];
    int to_child[2];
    CR_CHECK(::pipe2(to_parent, O_CLOEXEC) == 0 && ::pipe2(to_child, O_CLOEXEC) == 0);
    pid_ = ::fork();
    CR_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      ::close(to_parent[0]);
      ::close(to_child[1]);
      RunChild(dir, to_parent[1], to_child[0]);
    }
    ::close(to_parent[1]);
    ::close(to_child[0]);
    from_child_ = to_parent[0];
    to_child_ = to_child[1];
  }
  HolderProcess(const HolderProcess&) = delete;
  HolderProcess& operator=(const HolderProcess&) = delete;
  ~HolderProcess() {
    Kill();
    ::close(from_child_);
    if (to_child_ >= 0) {
      ::close(to_child_);
    }
  }

  // The token the child got, or the child's error text.
  std::string Report() {
    char buf[512] = {};
    ssize_t n = ::read(from_child_, buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "no report";
  }
  int ReleaseAndExit() {
    CR_CHECK(::write(to_child_, "r", 1) == 1);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  [[noreturn]] static void RunChild(const std::string& dir, int out, int in) {
    Result<std::unique_ptr<VolumeCoordinator>> c = MakeCoordinator(CoordinatorOptions::Local(dir));
    Result<VolumeLease> lease =
        c.ok() ? (*c)->Acquire("data", "node-child") : Result<VolumeLease>(c.error());
    std::string report = lease.ok() ? std::to_string(lease->token) : lease.error().ToString();
    (void)!::write(out, report.data(), report.size());
    char cmd = 0;
    if (::read(in, &cmd, 1) == 1 && cmd == 'r' && lease.ok()) {
      ::_exit((*c)->Release(*lease).ok() ? 0 : 1);
    }
    ::_exit(2);
  }

  pid_t pid_ = -1;
  int from_child_ = -1;
  int to_child_ = -1;
};

class LocalProcessTest : public ::testing::Test {
 protected:
  std::unique_ptr<VolumeCoordinator> Node() {
    Result<std::unique_ptr<VolumeCoordinator>> made =
        MakeCoordinator(CoordinatorOptions::Local(dir_.Join("coordination")));
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    return made.ok() ? std::move(made).value() : nullptr;
  }
  std::string dir() const { return dir_.Join("coordination"); }

  testing::TempDir dir_{"volcoord"};
};

TEST_F(LocalProcessTest, TwoProcessesContend) {
  HolderProcess child(dir());
  std::string report = child.Report();
  ASSERT_EQ(report.find_first_not_of("0123456789"), std::string::npos) << report;
  auto parent = Node();
  ASSERT_NE(parent, nullptr);

  Result<VolumeLease> refused = parent->Acquire("data", "node-parent");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_NE(refused.error().message().find("owned by node node-child"), std::string::npos)
      << refused.error().message();
  Result<std::vector<VolumeOwner>> list = parent->List();
  ASSERT_TRUE(list.ok() && list->size() == 1u);
  EXPECT_EQ((*list)[0].node, "node-child");

  ASSERT_EQ(child.ReleaseAndExit(), 0);
  Result<VolumeLease> taken = parent->Acquire("data", "node-parent");
  ASSERT_TRUE(taken.ok()) << taken.error().ToString();
  EXPECT_GT(taken->token, std::stoll(report));
}

TEST_F(LocalProcessTest, KilledHolderReleasesAndStaysFenced) {
  HolderProcess child(dir());
  std::string report = child.Report();
  ASSERT_EQ(report.find_first_not_of("0123456789"), std::string::npos) << report;
  VolumeLease stale{.volume = "data",
                    .node = "node-child",
                    .token = std::stoll(report),
                    .lease_id = 0,
                    .ttl = std::chrono::seconds(0)};
  child.Kill();  // a crash: no Release

  auto parent = Node();
  ASSERT_NE(parent, nullptr);
  Result<std::vector<VolumeOwner>> list = parent->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "a dead holder owns nothing";
  Result<VolumeLease> taken = parent->Acquire("data", "node-parent");
  ASSERT_TRUE(taken.ok()) << taken.error().ToString();
  EXPECT_GT(taken->token, stale.token);
  ASSERT_TRUE(parent->Release(*taken).ok());

  // The crashed node comes back with its persisted lease: someone owned the volume since, so
  // it may neither resume nor publish, even though nobody holds the lock right now.
  auto restarted = Node();
  ASSERT_NE(restarted, nullptr);
  Result<void> keep = restarted->KeepAlive(stale);
  ASSERT_FALSE(keep.ok());
  EXPECT_EQ(keep.error().code(), Code::kAborted);
  Result<void> publish =
      restarted->PublishHead(stale, {.manifest_digest = "sha256:old", .token = 0});
  ASSERT_FALSE(publish.ok());
  EXPECT_EQ(publish.error().code(), Code::kAborted);
  EXPECT_NE(publish.error().message().find("fenced"), std::string::npos);
  Result<std::optional<VolumeHead>> head = restarted->ReadHead("data");
  ASSERT_TRUE(head.ok());
  EXPECT_FALSE(head->has_value());
  EXPECT_TRUE(restarted->Acquire("data", "node-child").ok()) << "the failed resume kept no lock";
}

}  // namespace
}  // namespace cricket::storage
