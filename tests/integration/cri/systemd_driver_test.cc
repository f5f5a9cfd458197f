// The systemd cgroup driver end to end (issue #15): cricketd with cgroup_driver = "systemd"
// puts each container in a transient, delegated scope `cricket-<id>.scope` in the pod's slice,
// sets the limits as unit properties and in the cgroup files, updates both, and stops the unit
// on removal. Needs systemd as PID 1: on this project's hosts the tests skip and run in hack/vm's
// systemd guest (ctest cri_systemd_vm). Without systemd, the refusal at start-up is tested.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"
#include "tests/integration/cri/systemd_unit.h"

namespace cricket::testing {
namespace {

bool SystemdIsPid1() { return std::filesystem::is_directory("/run/systemd/system"); }

// hack/vm's systemd mode boots with v2vm.systemd=1: there the tests must run, never skip.
bool BootedForSystemd() {
  return ReadFile("/proc/cmdline").value_or("").find("v2vm.systemd=1") != std::string::npos;
}

class SystemdDriverTest : public PodFixture {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    if (!SystemdIsPid1()) {
      ASSERT_FALSE(BootedForSystemd()) << "booted for systemd, but PID 1 is not systemd";
      GTEST_SKIP() << "PID 1 is not systemd (no /run/systemd/system): these run in hack/vm's "
                      "systemd guest (ctest cri_systemd_vm)";
    }
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    // Pulled with the default driver; the same root again with systemd's.
    daemon_.reset();
    WriteConfig("cgroup_driver = \"systemd\"\n");
    Start();
  }

  // crtest-<pid>-pod.slice: /crtest.slice/crtest-<pid>.slice/crtest-<pid>-pod.slice
  std::string slice_ = "crtest-" + std::to_string(::getpid()) + "-pod.slice";
  std::string slice_dir_ =
      "/sys/fs/cgroup/crtest.slice/crtest-" + std::to_string(::getpid()) + ".slice/" + slice_;
};

TEST_F(SystemdDriverTest, ContainerLivesInADelegatedScopeWithItsLimits) {
  v1::PodSandboxConfig pod_config = PodConfig("sd");
  pod_config.mutable_linux()->set_cgroup_parent(slice_);
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(UnitProperty("cricket-" + pod + ".scope", "ActiveState"), "active");

  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec sleep 1000", &ctr, false,
                              [](v1::ContainerConfig& c) {
                                c.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(
                                    64 << 20);
                                c.mutable_linux()->mutable_resources()->set_cpu_quota(50000);
                                c.mutable_linux()->mutable_resources()->set_cpu_period(100000);
                              })
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  const std::string unit = "cricket-" + ctr + ".scope";
  const std::string dir = slice_dir_ + "/" + unit;
  EXPECT_EQ(UnitProperty(unit, "ActiveState"), "active");
  EXPECT_EQ(UnitProperty(unit, "Delegate"), "yes");
  EXPECT_EQ(UnitProperty(unit, "Slice"), slice_);
  EXPECT_EQ(UnitProperty(unit, "MemoryMax"), std::to_string(64 << 20));
  EXPECT_EQ(ReadFile(dir + "/memory.max").value_or(""), std::to_string(64 << 20) + "\n");
  EXPECT_EQ(ReadFile(dir + "/cpu.max").value_or(""), "50000 100000\n");
  // The container's init is in the scope, and only it: the placeholder is gone.
  std::string procs = ReadFile(dir + "/cgroup.procs").value_or("");
  EXPECT_EQ(std::count(procs.begin(), procs.end(), '\n'), 1) << procs;

  // UpdateContainerResources changes the unit and the file.
  {
    grpc::ClientContext ctx;
    v1::UpdateContainerResourcesRequest req;
    req.set_container_id(ctr);
    req.mutable_linux()->set_memory_limit_in_bytes(48 << 20);
    v1::UpdateContainerResourcesResponse resp;
    grpc::Status updated = runtime_->UpdateContainerResources(&ctx, req, &resp);
    ASSERT_TRUE(updated.ok()) << updated.error_message();
  }
  EXPECT_EQ(UnitProperty(unit, "MemoryMax"), std::to_string(48 << 20));
  EXPECT_EQ(ReadFile(dir + "/memory.max").value_or(""), std::to_string(48 << 20) + "\n");

  // Removal stops the unit: systemd no longer has it, nor its cgroup.
  ASSERT_TRUE(Stop(ctr, 0).ok());
  {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(ctr);
    v1::RemoveContainerResponse resp;
    ASSERT_TRUE(runtime_->RemoveContainer(&ctx, req, &resp).ok());
  }
  EXPECT_NE(UnitProperty(unit, "ActiveState"), "active");
  EXPECT_EQ(UnitProperty(unit, "LoadState"), "not-found");
  EXPECT_FALSE(std::filesystem::exists(dir));
  RemovePods();
  EXPECT_EQ(UnitProperty("cricket-" + pod + ".scope", "LoadState"), "not-found");
}

TEST_F(SystemdDriverTest, CgroupfsParentIsRefusedUnderSystemd) {
  v1::PodSandboxConfig pod_config = PodConfig("sdbad");
  pod_config.mutable_linux()->set_cgroup_parent("/kubepods/burstable/pod1");
  std::string id;
  grpc::Status status = ::cricket::testing::RunPod(*runtime_, pod_config, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("linux.cgroup_parent"), std::string::npos);
}

// UpdatePodSandboxResources (issue #16): the pod's slice gets the limits as unit properties (or
// systemd would put its own values back) and in its cgroup files.
TEST_F(SystemdDriverTest, PodResizeSetsTheSlicesPropertiesAndFiles) {
  v1::PodSandboxConfig pod_config = PodConfig("sdresize");
  pod_config.mutable_linux()->set_cgroup_parent(slice_);
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  grpc::ClientContext ctx;
  v1::UpdatePodSandboxResourcesRequest req;
  req.set_pod_sandbox_id(pod);
  req.mutable_resources()->set_memory_limit_in_bytes(96 << 20);
  req.mutable_resources()->set_cpu_period(100000);
  req.mutable_resources()->set_cpu_quota(50000);
  req.mutable_overhead()->set_memory_limit_in_bytes(8 << 20);
  v1::UpdatePodSandboxResourcesResponse resp;
  grpc::Status updated = runtime_->UpdatePodSandboxResources(&ctx, req, &resp);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  EXPECT_EQ(UnitProperty(slice_, "MemoryMax"), std::to_string(104 << 20));
  EXPECT_EQ(ReadFile(slice_dir_ + "/memory.max").value_or(""), std::to_string(104 << 20) + "\n");
  EXPECT_EQ(ReadFile(slice_dir_ + "/cpu.max").value_or(""), "50000 100000\n");
}

// Where PID 1 is not systemd, cricketd refuses the driver at start-up and says what to do.
class SystemdDriverRefusalTest : public CricketdFixture {};

TEST_F(SystemdDriverRefusalTest, NodeWithoutSystemdIsRefusedAtStartUp) {
  CR_REQUIRE_ROOT();
  if (SystemdIsPid1()) {
    GTEST_SKIP() << "PID 1 is systemd here";
  }
  WriteConfig("cgroup_driver = \"systemd\"\n");
  auto daemon = Launch();
  auto code = daemon->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "cricketd kept running";
  EXPECT_NE(*code, 0);
  EXPECT_NE(daemon->Stderr().find("systemd is not PID 1"), std::string::npos) << daemon->Stderr();
  EXPECT_FALSE(std::filesystem::exists(socket()));
}

}  // namespace
}  // namespace cricket::testing
