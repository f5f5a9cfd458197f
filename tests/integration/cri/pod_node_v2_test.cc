// What a node's kernel enforces for a pod, end to end through a real cricketd, on cgroup v1
// (the host) and v2 (ctest's cri_node_v2_vm runs them in hack/vm --systemd): the device
// allow-list (v2: the BPF_CGROUP_DEVICE program), OOMKilled when the OOM killer picks a child
// of the container's first process, UpdateContainerResources reaching the v2 files, a pids
// limit of 1, hugetlb limits. ctest cri_node_v2_systemd_vm runs them again with cricketd on the
// systemd cgroup driver (CRICKET_TEST_CGROUP_DRIVER=systemd). Root; images from the registry
// fixture.

#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"
#include "tests/integration/cri/systemd_unit.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;

class PodNodeV2Test : public ::cricket::testing::PodFixture {
 protected:
  static bool CgroupV2() { return std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers"); }

  // Runs `script` in a new container of a new pod (privileged or not) and returns its output.
  std::string RunScript(const std::string& pod_name, bool privileged, const std::string& script) {
    v1::PodSandboxConfig pod_config = PodConfig(pod_name);
    pod_config.mutable_linux()->mutable_security_context()->set_privileged(privileged);
    std::string pod = RunPod(pod_config);
    std::string ctr;
    grpc::Status created = CreateContainer(
        pod, pod_config, "c", "exec busybox sleep 1000", &ctr, false, [&](v1::ContainerConfig& c) {
          c.mutable_linux()->mutable_security_context()->set_privileged(privileged);
        });
    EXPECT_TRUE(created.ok()) << created.error_message();
    EXPECT_TRUE(StartContainer(ctr).ok());
    v1::ExecSyncResponse out;
    EXPECT_TRUE(Exec(ctr, script, &out, 30).ok());
    return out.stdout() + out.stderr();
  }
};

// Major 60 is reserved for local/experimental use: no driver owns it. Opening such a node fails
// with ENXIO when the device controller lets it through, with EPERM when the allow-list (v1
// devices.deny, v2 the eBPF program) refuses it. mknod itself may already be refused.
constexpr const char* kOpenUnknownDevice =
    "busybox mknod /tmp/unknown c 60 0 2>&1; busybox head -c 1 /tmp/unknown 2>&1; true";

TEST_F(PodNodeV2Test, ADeviceOutsideTheAllowListIsDenied) {
  std::string out = RunScript("nodev", false, kOpenUnknownDevice);
  EXPECT_NE(out.find("Operation not permitted"), std::string::npos) << out;
  EXPECT_EQ(out.find("No such device or address"), std::string::npos) << out;
}

TEST_F(PodNodeV2Test, PrivilegedMayOpenEveryDevice) {
  std::string out = RunScript("alldev", true, kOpenUnknownDevice);
  EXPECT_NE(out.find("No such device or address"), std::string::npos) << out;
  EXPECT_EQ(out.find("Operation not permitted"), std::string::npos) << out;
}

// The shell survives: the OOM killer picks dd, its child with the big buffer. Kubernetes still
// wants OOMKilled (kubelet restarts on it), whatever the first process's exit code: the
// container's cgroup counted an oom_kill (v2 memory.events, v1 memory.oom_control).
TEST_F(PodNodeV2Test, OomKilledWhenTheKillLandsOnAChildProcess) {
  v1::PodSandboxConfig pod_config = PodConfig("oomchild");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c",
                              "busybox dd if=/dev/zero of=/dev/null bs=256M count=1; "
                              "echo child-status=$?; exit 0",
                              &ctr, false,
                              [](v1::ContainerConfig& c) {
                                auto& r = *c.mutable_linux()->mutable_resources();
                                r.set_memory_limit_in_bytes(32 << 20);
                                r.set_memory_swap_limit_in_bytes(32 << 20);
                              })
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  // Up to 30 s: the VM emulates its CPU.
  bool exited = false;
  for (int i = 0; i < 6 && !exited; ++i) {
    exited = WaitFor([&] { return Status(ctr).state() == v1::CONTAINER_EXITED; });
  }
  ASSERT_TRUE(exited);
  v1::ContainerStatus status = Status(ctr);
  EXPECT_EQ(status.exit_code(), 0) << "the shell itself was killed: not the child case";
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_NE(ReadLog("oomchild", "c").find("child-status=137"), std::string::npos)
      << ReadLog("oomchild", "c");
}

// UpdateContainerResources on v2: cpu.max, memory.max and (through `unified`) pids.max.
TEST_F(PodNodeV2Test, UpdateReachesTheV2Files) {
  if (!CgroupV2()) {
    GTEST_SKIP() << "cgroup v2 only (ctest: cri_node_v2_vm)";
  }
  v1::PodSandboxConfig pod_config = PodConfig("update");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  grpc::ClientContext ctx;
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(ctr);
  auto& r = *req.mutable_linux();
  r.set_cpu_period(100000);
  r.set_cpu_quota(50000);
  r.set_memory_limit_in_bytes(48 << 20);
  (*r.mutable_unified())["pids.max"] = "42";
  v1::UpdateContainerResourcesResponse resp;
  grpc::Status updated = runtime_->UpdateContainerResources(&ctx, req, &resp);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  const std::string dir = V2CgroupDir(ctr);
  EXPECT_EQ(ReadFile(dir + "/cpu.max").value_or(""), "50000 100000\n");
  EXPECT_EQ(ReadFile(dir + "/memory.max").value_or(""), "50331648\n");
  EXPECT_EQ(ReadFile(dir + "/pids.max").value_or(""), "42\n");
}

// kubelet's container pids limit comes as unified pids.max. A limit of 1 leaves room for the
// container's first process only: under the systemd driver the placeholder that starts the
// scope must be gone before the limit counts (and systemd's TasksMax must say 1 too, or systemd
// would write its default back). A second process (an exec) is refused. (The shell cannot test
// its own fork: busybox ash exits when a fork fails.)
TEST_F(PodNodeV2Test, PidsLimitOfOneStartsAndRefusesForks) {
  if (!CgroupV2()) {
    GTEST_SKIP() << "cgroup v2 only (ctest: cri_node_v2_vm, cri_node_v2_systemd_vm)";
  }
  v1::PodSandboxConfig pod_config = PodConfig("pids1");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  grpc::Status created = CreateContainer(
      pod, pod_config, "c", "exec busybox sleep 1000", &ctr, false, [](v1::ContainerConfig& c) {
        (*c.mutable_linux()->mutable_resources()->mutable_unified())["pids.max"] = "1";
      });
  ASSERT_TRUE(created.ok()) << created.error_message();
  grpc::Status started = StartContainer(ctr);
  ASSERT_TRUE(started.ok()) << started.error_message();
  v1::ExecSyncResponse out;
  grpc::Status exec = Exec(ctr, "busybox true", &out);
  EXPECT_TRUE(!exec.ok() || out.exit_code() != 0) << "a second process ran under pids.max 1";
  EXPECT_EQ(Status(ctr).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(ReadFile(V2CgroupDir(ctr) + "/pids.max").value_or(""), "1\n");
  EXPECT_EQ(ReadFile(V2CgroupDir(ctr) + "/pids.current").value_or(""), "1\n");
  if (CgroupDriver() == "systemd") {
    EXPECT_EQ(::cricket::testing::UnitProperty("cricket-" + ctr + ".scope", "TasksMax"), "1");
  }
}

// kubelet sends a hugetlb limit for every page size of the node; they reach hugetlb.<size>.max
// at create and on UpdateContainerResources. Where the kernel has hugetlb and 2 MB pages.
TEST_F(PodNodeV2Test, HugepageLimitsReachTheV2Files) {
  if (!CgroupV2() ||
      ReadFile("/sys/fs/cgroup/cgroup.controllers").value_or("").find("hugetlb") ==
          std::string::npos ||
      !std::filesystem::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
    GTEST_SKIP() << "needs cgroup v2 with the hugetlb controller and 2 MB pages";
  }
  v1::PodSandboxConfig pod_config = PodConfig("hugetlb");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  grpc::Status created = CreateContainer(
      pod, pod_config, "c", "exec busybox sleep 1000", &ctr, false, [](v1::ContainerConfig& c) {
        auto* limit = c.mutable_linux()->mutable_resources()->add_hugepage_limits();
        limit->set_page_size("2MB");
        limit->set_limit(4 << 20);
      });
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_TRUE(StartContainer(ctr).ok());
  const std::string file = V2CgroupDir(ctr) + "/hugetlb.2MB.max";
  EXPECT_EQ(ReadFile(file).value_or(""), "4194304\n");

  grpc::ClientContext ctx;
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(ctr);
  auto* limit = req.mutable_linux()->add_hugepage_limits();
  limit->set_page_size("2MB");
  limit->set_limit(8 << 20);
  v1::UpdateContainerResourcesResponse resp;
  grpc::Status updated = runtime_->UpdateContainerResources(&ctx, req, &resp);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  EXPECT_EQ(ReadFile(file).value_or(""), "8388608\n");
}

}  // namespace
}  // namespace cricket
