// UpdatePodSandboxResources (in-place pod resize) through a real cricketd with the cgroupfs
// driver: the pod-level limits (resources plus overhead) land in the pod's cgroup files (v1 on
// the host, v2 in ctest's cri_node_v2_vm), PodSandboxStatus shows them (verbose info: CRI's
// status has no field for them), and bad input, an unknown pod and a stopped pod get
// INVALID_ARGUMENT, NOT_FOUND and FAILED_PRECONDITION. Root; images from the registry fixture.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;

bool CgroupV2() { return std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers"); }

class PodResizeTest : public ::cricket::testing::PodFixture {
 protected:
  void TearDown() override {
    PodFixture::TearDown();
    // kubelet owns a pod's parent cgroup; here the test does: empty once its pods are gone.
    std::error_code ec;
    if (CgroupV2()) {
      std::filesystem::remove("/sys/fs/cgroup" + parent_, ec);
      return;
    }
    for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      std::filesystem::remove(hierarchy.path().string() + parent_, ec);
    }
  }

  // The pod cgroup's file: v2's unified tree, or v1's `controller` hierarchy.
  std::string CgroupFile(const std::string& controller, const std::string& file) const {
    if (CgroupV2()) {
      return "/sys/fs/cgroup" + parent_ + "/" + file;
    }
    return "/sys/fs/cgroup/" + controller + parent_ + "/" + file;
  }

  grpc::Status Update(const v1::UpdatePodSandboxResourcesRequest& req) {
    grpc::ClientContext ctx;
    v1::UpdatePodSandboxResourcesResponse resp;
    return runtime_->UpdatePodSandboxResources(&ctx, req, &resp);
  }

  std::string parent_ = "/crtest-" + std::to_string(::getpid()) + "-resize";
};

TEST_F(PodResizeTest, PodLimitsReachThePodCgroupAndItsStatus) {
  v1::PodSandboxConfig pod_config = PodConfig("resize");
  pod_config.mutable_linux()->set_cgroup_parent(parent_);
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());

  v1::UpdatePodSandboxResourcesRequest req;
  req.set_pod_sandbox_id(pod);
  auto& r = *req.mutable_resources();
  r.set_cpu_period(100000);
  r.set_cpu_quota(150000);
  r.set_cpu_shares(512);
  r.set_memory_limit_in_bytes(96 << 20);
  auto& o = *req.mutable_overhead();
  o.set_cpu_quota(10000);
  o.set_memory_limit_in_bytes(8 << 20);
  grpc::Status updated = Update(req);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  if (CgroupV2()) {
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.max")).value_or(""), "160000 100000\n");
    EXPECT_EQ(ReadFile(CgroupFile("memory", "memory.max")).value_or(""), "109051904\n");
  } else {
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.cfs_quota_us")).value_or(""), "160000\n");
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.shares")).value_or(""), "512\n");
    EXPECT_EQ(ReadFile(CgroupFile("memory", "memory.limit_in_bytes")).value_or(""), "109051904\n");
  }
  {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest status_req;
    status_req.set_pod_sandbox_id(pod);
    status_req.set_verbose(true);
    v1::PodSandboxStatusResponse status;
    ASSERT_TRUE(runtime_->PodSandboxStatus(&ctx, status_req, &status).ok());
    const std::string& info = status.info().at("info");
    EXPECT_NE(info.find("\"memoryLimitInBytes\":\"100663296\""), std::string::npos) << info;
    EXPECT_NE(info.find("\"overhead\":{\"cpuQuota\":\"10000\""), std::string::npos) << info;
  }

  // A resize that lifts the limits: no quota, no memory limit in `resources`.
  v1::UpdatePodSandboxResourcesRequest lift;
  lift.set_pod_sandbox_id(pod);
  updated = Update(lift);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  if (CgroupV2()) {
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.max")).value_or(""), "max 100000\n");
    EXPECT_EQ(ReadFile(CgroupFile("memory", "memory.max")).value_or(""), "max\n");
  } else {
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.cfs_quota_us")).value_or(""), "-1\n");
  }

  // Bad input names the field and changes nothing.
  v1::UpdatePodSandboxResourcesRequest bad = req;
  bad.mutable_resources()->set_cpu_shares(1);
  grpc::Status refused = Update(bad);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("resources.cpu_shares"), std::string::npos)
      << refused.error_message();
  if (!CgroupV2()) {
    EXPECT_EQ(ReadFile(CgroupFile("cpu", "cpu.cfs_quota_us")).value_or(""), "-1\n");
  }

  v1::UpdatePodSandboxResourcesRequest unknown = req;
  unknown.set_pod_sandbox_id("f00d" + std::string(60, '0'));
  EXPECT_EQ(Update(unknown).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext stop_ctx;
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse stopped;
  ASSERT_TRUE(runtime_->StopPodSandbox(&stop_ctx, stop, &stopped).ok());
  EXPECT_EQ(Update(req).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace cricket
