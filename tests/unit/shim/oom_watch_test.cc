#include "shim/oom_watch.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/syscalls.h"
#include "oci/cgroup_manager.h"
#include "tests/support/temp_dir.h"

namespace cricket::shim {
namespace {

// A cgroup v2 directory in a temp dir. The kernel rewrites memory.events in place (IN_MODIFY);
// so does Write, unlike an atomic rename.
class OomWatchTest : public ::testing::Test {
 protected:
  OomWatchTest() {
    std::filesystem::create_directories(root_.Join("ctr"));
    Write("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  }
  void Write(const std::string& text) {
    std::ofstream(root_.Join("ctr/memory.events"), std::ios::trunc) << text;
  }
  Result<OomWatch> Start() {
    return OomWatch::Start(oci::NewCgroupV2Manager(sys_, root_.path(), "/ctr"));
  }

  LinuxSyscalls sys_;
  cricket::testing::TempDir root_{"oomwatch"};
};

TEST_F(OomWatchTest, NoKillWhileTheCounterIsZero) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  EXPECT_GE(watch->fd(), 0);
  Write("low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n");
  EXPECT_FALSE(watch->Killed());
}

// Issue #15: under the systemd driver the scope's cgroup is gone by the time the shim reaps the
// init. A kill seen while it existed must survive the removal.
TEST_F(OomWatchTest, AKillSeenWhileRunningSurvivesTheCgroupsRemoval) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Write("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n");
  ASSERT_GE(watch->fd(), 0);
  watch->OnReadable();  // what the shim's poll loop does when the fd turns readable
  std::filesystem::remove_all(root_.Join("ctr"));
  EXPECT_TRUE(watch->Killed());
}

TEST_F(OomWatchTest, OnReadableRecordsTheKillBeforeTheExit) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Write("low 0\nhigh 0\nmax 7\noom 1\noom_kill 2\n");
  watch->OnReadable();
  Write("low 0\nhigh 0\nmax 7\noom 1\n");  // unreadable counter later: the kill stays
  EXPECT_TRUE(watch->Killed());
}

TEST_F(OomWatchTest, AKillBeforeTheWatchBeganCounts) {
  Write("low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n");
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  std::filesystem::remove_all(root_.Join("ctr"));
  EXPECT_TRUE(watch->Killed());
}

TEST_F(OomWatchTest, AMissingEventsFileIsNamedInTheError) {
  std::filesystem::remove_all(root_.Join("ctr"));
  auto watch = Start();
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().code(), Code::kNotFound);
  EXPECT_NE(watch.error().message().find("ctr/memory.events"), std::string::npos);
}

// Under the systemd driver: a scope in its pod's slice, beside the pod's infra scope. The scope
// is removed before the shim reads its counter, and the kill's notification never came.
class OomWatchSliceTest : public ::testing::Test {
 protected:
  OomWatchSliceTest() {
    for (const char* dir : {"pod.slice/cricket-ctr.scope", "pod.slice/cricket-infra.scope"}) {
      std::filesystem::create_directories(root_.Join(dir));
    }
    Kills("pod.slice", 0);
    Kills("pod.slice/cricket-ctr.scope", 0);
    Kills("pod.slice/cricket-infra.scope", 0);
  }
  void Kills(const std::string& dir, int count) {
    std::ofstream(root_.Join(dir + "/memory.events"), std::ios::trunc)
        << "low 0\nhigh 0\nmax 0\noom 0\noom_kill " << count << "\n";
  }
  Result<OomWatch> Start(const std::string& parent = "pod.slice") {
    return OomWatch::Start(
        oci::NewCgroupV2Manager(sys_, root_.path(), "/" + parent + "/cricket-ctr.scope"));
  }
  void RemoveScope(const std::string& name, const std::string& parent = "pod.slice") {
    std::filesystem::remove_all(root_.Join(parent + "/" + name));
  }

  LinuxSyscalls sys_;
  cricket::testing::TempDir root_{"oomslice"};
};

TEST_F(OomWatchSliceTest, ARiseOfTheSlicesCountNoSiblingExplainsIsTheContainersKill) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Kills("pod.slice", 1);  // the kernel counts the kill in the slice too, before the victim dies
  RemoveScope("cricket-ctr.scope");
  EXPECT_TRUE(watch->Killed());
}

TEST_F(OomWatchSliceTest, NoRiseOfTheSlicesCountIsNoKill) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  RemoveScope("cricket-ctr.scope");
  EXPECT_FALSE(watch->Killed());
}

TEST_F(OomWatchSliceTest, ASiblingsKillIsNotTheContainers) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Kills("pod.slice", 1);
  Kills("pod.slice/cricket-infra.scope", 1);
  RemoveScope("cricket-ctr.scope");
  EXPECT_FALSE(watch->Killed());
}

// A kill in the pod before the watch's last successful read is in its baseline.
TEST_F(OomWatchSliceTest, AKillBeforeTheLastReadIsInTheBaseline) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Kills("pod.slice/cricket-other.scope", 0);  // a sibling that comes, is killed, and goes
  Kills("pod.slice/cricket-other.scope", 1);
  Kills("pod.slice", 1);
  watch->OnReadable();  // the slice's notification of that kill
  RemoveScope("cricket-other.scope");
  RemoveScope("cricket-ctr.scope");
  EXPECT_FALSE(watch->Killed());
}

// A sibling of the baseline that is gone took what it might explain: no kill is claimed.
TEST_F(OomWatchSliceTest, ASiblingGoneSinceTheBaselineLeavesItUndecided) {
  auto watch = Start();
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Kills("pod.slice", 1);
  RemoveScope("cricket-infra.scope");
  RemoveScope("cricket-ctr.scope");
  EXPECT_FALSE(watch->Killed());
}

// Under the cgroupfs driver the parent is shared by every pod of the node, and nobody else
// removes the cgroup: the parent's count is never read.
TEST_F(OomWatchSliceTest, OnlyASliceParentIsRead) {
  std::filesystem::create_directories(root_.Join("cricket/cricket-ctr.scope"));
  Kills("cricket", 0);
  Kills("cricket/cricket-ctr.scope", 0);
  auto watch = Start("cricket");
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  Kills("cricket", 1);
  RemoveScope("cricket-ctr.scope", "cricket");
  EXPECT_FALSE(watch->Killed());
}

TEST(OomWatchV1Test, InactiveWhereTheCgroupHasNoEventsFile) {
  LinuxSyscalls sys;
  oci::CgroupInfo info;  // v1 without a memory hierarchy
  auto watch = OomWatch::Start(oci::NewCgroupV1Manager(sys, info, "/ctr"));
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  EXPECT_EQ(watch->fd(), -1);
  EXPECT_FALSE(watch->Killed());
}

}  // namespace
}  // namespace cricket::shim
