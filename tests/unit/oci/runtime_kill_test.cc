// Runtime::Kill when processes exit while they are being signalled: under load a container's
// init can end (and be reaped) between the state lookup and the kill. That is not an error.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "oci/runtime.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/oci/fake_cgroupfs.h"

namespace cricket::oci {
namespace {

// The cgroup seam over a temp dir, where every process is already gone: kill answers ESRCH.
class GoneProcesses : public testing::FakeCgroupFs {
 public:
  GoneProcesses() : FakeCgroupFs({"cgroup.procs", "cgroup.freeze", "memory.events"}) {}
  Result<void> Kill(pid_t pid, int signal) override {
    killed.push_back({pid, signal});
    return Error(Code::kNotFound, "kill pid " + std::to_string(pid), ESRCH);
  }
  std::vector<std::pair<pid_t, int>> killed;
};

class RuntimeKillTest : public ::testing::Test {
 protected:
  RuntimeKillTest() {
    CgroupInfo cgroups;
    cgroups.mode = CgroupMode::kV2;
    cgroups.unified_mount = cgroup_root_.path();
    fs_.Populate(cgroup_root_.Join("ctr"));
    // Two processes listed in the container's cgroup; the init is this test process, so the
    // runtime sees a live container (its start time is not recorded: any start time matches).
    std::ofstream(cgroup_root_.Join("ctr/cgroup.procs")) << ::getpid() << "\n" << 4194000 << "\n";
    runtime_.emplace(fs_, state_root_.path(), cgroups);
    StateStore store(state_root_.path());
    ContainerState state;
    state.id = "c1";
    state.status = Status::kRunning;
    state.pid = ::getpid();
    state.cgroup_path = "/ctr";
    EXPECT_TRUE(store.Reserve("c1").ok());
    EXPECT_TRUE(store.Save(state).ok());
  }

  cricket::testing::TempDir cgroup_root_{"killcg"};
  cricket::testing::TempDir state_root_{"killstate"};
  GoneProcesses fs_;
  std::optional<Runtime> runtime_;
};

TEST_F(RuntimeKillTest, KillAllSucceedsWhenEveryProcessIsAlreadyGone) {
  auto killed = runtime_->Kill("c1", SIGKILL, /*all=*/true);
  EXPECT_TRUE(killed.ok()) << killed.error().ToString();
  // Both listed processes and the init were signalled.
  EXPECT_EQ(fs_.killed.size(), 3u);
}

TEST_F(RuntimeKillTest, KillOfAnInitThatJustExitedSaysNotRunning) {
  auto killed = runtime_->Kill("c1", SIGTERM, /*all=*/false);
  ASSERT_FALSE(killed.ok());
  EXPECT_EQ(killed.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(killed.error().message().find("container not running"), std::string::npos)
      << killed.error().message();
}

}  // namespace
}  // namespace cricket::oci
