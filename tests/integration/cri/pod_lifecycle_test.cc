// Pods and containers end to end through a real cricketd: sandboxes with their own network and
// infra process, containers from a pulled image, logs, exec, stop, remove, and recovery after
// cricketd is killed. Root; images come from the local registry fixture (hack/test-registry).
// Streaming, users and mounts are in pod_streaming_test.cc, pod_users_test.cc and
// pod_mounts_test.cc (the same PodLifecycleTest suite).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/syscalls.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_manager.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;
using ::cricket::testing::PodLifecycleTest;

TEST_F(PodLifecycleTest, PodWithTwoContainersFromStartToRemoval) {
  v1::PodSandboxConfig pod_config = PodConfig("web");
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    ASSERT_TRUE(runtime_->PodSandboxStatus(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status().state(), v1::SANDBOX_READY);
    EXPECT_TRUE(resp.status().network().ip().starts_with("10.88.")) << resp.status().network().ip();
  }

  std::string first;
  std::string second;
  const std::string long_line(20000, 'x');
  ASSERT_TRUE(CreateContainer(pod, pod_config, "first",
                              // Static busybox runs `sleep` inside the shell, where a trap waits
                              // for it; a background sleep and `wait` keep the trap prompt.
                              "trap 'exit 7' QUIT; echo hello; echo " + long_line +
                                  "; while true; do busybox sleep 1 & wait $!; done",
                              &first)
                  .ok());
  ASSERT_TRUE(CreateContainer(pod, pod_config, "second", "exec busybox sleep 1000", &second).ok());
  EXPECT_EQ(Status(first).state(), v1::CONTAINER_CREATED);
  ASSERT_TRUE(StartContainer(first).ok());
  ASSERT_TRUE(StartContainer(second).ok());
  EXPECT_EQ(Status(first).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(StartContainer(first).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // CRI log format, with the long line split into partials.
  ASSERT_TRUE(WaitFor([&] { return ReadLog("web", "first").find(" F x") != std::string::npos; }))
      << ReadLog("web", "first");
  std::string log = ReadLog("web", "first");
  EXPECT_NE(log.find(" stdout F hello\n"), std::string::npos);
  EXPECT_NE(log.find(" stdout P xxxx"), std::string::npos);

  // Exec: output, exit code, the pod's shared pid namespace with our infra as pid 1,
  // the pod's hostname, a timeout that kills.
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(first, "echo out; echo err >&2; exit 3", &out).ok());
  EXPECT_EQ(out.stdout(), "out\n");
  EXPECT_EQ(out.stderr(), "err\n");
  EXPECT_EQ(out.exit_code(), 3);
  ASSERT_TRUE(Exec(second, "busybox cat /proc/1/cmdline; echo; busybox hostname", &out).ok());
  EXPECT_EQ(out.stdout(), std::string("/pause\0\nweb-host\n", 17));
  grpc::Status timed_out = Exec(first, "busybox sleep 30", &out, 1);
  EXPECT_EQ(timed_out.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // Stats: a running container has used CPU and memory; the label filter selects one.
  {
    grpc::ClientContext ctx;
    v1::ContainerStatsRequest req;
    req.set_container_id(first);
    v1::ContainerStatsResponse resp;
    ASSERT_TRUE(runtime_->ContainerStats(&ctx, req, &resp).ok());
    EXPECT_GT(resp.stats().cpu().timestamp(), 0);
    EXPECT_GT(resp.stats().cpu().usage_core_nano_seconds().value(), 0u);
    EXPECT_GT(resp.stats().memory().working_set_bytes().value(), 0u);
    EXPECT_EQ(resp.stats().attributes().id(), first);
    grpc::ClientContext list_ctx;
    v1::ListContainerStatsRequest list;
    (*list.mutable_filter()->mutable_label_selector())["name"] = "second";
    v1::ListContainerStatsResponse listed;
    ASSERT_TRUE(runtime_->ListContainerStats(&list_ctx, list, &listed).ok());
    ASSERT_EQ(listed.stats_size(), 1);
    EXPECT_EQ(listed.stats(0).attributes().id(), second);
  }

  // UpdateContainerResources reaches the cgroup and ContainerStatus reports it.
  {
    grpc::ClientContext ctx;
    v1::UpdateContainerResourcesRequest req;
    req.set_container_id(second);
    req.mutable_linux()->set_memory_limit_in_bytes(64 << 20);
    v1::UpdateContainerResourcesResponse resp;
    grpc::Status updated = runtime_->UpdateContainerResources(&ctx, req, &resp);
    ASSERT_TRUE(updated.ok()) << updated.error_message();
    const bool v1_memory = std::filesystem::exists("/sys/fs/cgroup/memory/cricket");
    std::string limit =
        ReadFile(v1_memory ? "/sys/fs/cgroup/memory/cricket/" + second + "/memory.limit_in_bytes"
                           : V2CgroupDir(second) + "/memory.max")
            .value_or("");
    EXPECT_EQ(limit, "67108864\n");
    EXPECT_EQ(Status(second).resources().linux().memory_limit_in_bytes(), 64 << 20);
  }

  // Stop sends the image's STOPSIGNAL (SIGQUIT here): the trap gives exit 7, the other dies of
  // the signal.
  ASSERT_TRUE(Stop(first, 10).ok());
  v1::ContainerStatus stopped = Status(first);
  EXPECT_EQ(stopped.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(stopped.exit_code(), 7);
  EXPECT_EQ(stopped.reason(), "Error");
  EXPECT_GT(stopped.finished_at(), stopped.started_at());
  ASSERT_TRUE(Stop(second, 10).ok());
  EXPECT_EQ(Status(second).exit_code(), 128 + SIGQUIT);
  EXPECT_TRUE(Stop(second, 10).ok());  // idempotent

  // Filters.
  {
    grpc::ClientContext ctx;
    v1::ListContainersRequest req;
    req.mutable_filter()->set_pod_sandbox_id(pod);
    req.mutable_filter()->mutable_state()->set_state(v1::CONTAINER_EXITED);
    v1::ListContainersResponse resp;
    ASSERT_TRUE(runtime_->ListContainers(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.containers_size(), 2);
  }

  // Remove everything; nothing is left behind.
  for (const auto& id : {first, second}) {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    ASSERT_TRUE(runtime_->RemoveContainer(&ctx, req, &resp).ok());
  }
  grpc::ClientContext rm_ctx;
  v1::RemovePodSandboxRequest rm;
  rm.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse rm_resp;
  ASSERT_TRUE(runtime_->RemovePodSandbox(&rm_ctx, rm, &rm_resp).ok());
  EXPECT_EQ(Entries(state() + "/netns"), 0u);
  EXPECT_EQ(Entries(state() + "/shims"), 0u);
  EXPECT_EQ(Entries(state() + "/containers"), 0u);
  EXPECT_EQ(Entries(state() + "/runtime"), 0u);
  EXPECT_EQ(Entries(state() + "/sandboxes"), 0u);
}

TEST_F(PodLifecycleTest, ErrorsNameTheObjectAndStopRemoveAreIdempotent) {
  v1::PodSandboxConfig pod_config = PodConfig("errs");
  std::string id;
  EXPECT_EQ(CreateContainer("no-such-pod", pod_config, "c", "true", &id).error_code(),
            grpc::StatusCode::NOT_FOUND);
  std::string pod = RunPod(pod_config);
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 100", &id).ok());
  std::string dup;
  EXPECT_EQ(CreateContainer(pod, pod_config, "c", "true", &dup).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(Stop("no-such-container", 1).ok());
  grpc::ClientContext ctx;
  v1::ContainerStatusRequest req;
  req.set_container_id("no-such-container");
  v1::ContainerStatusResponse resp;
  EXPECT_EQ(runtime_->ContainerStatus(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext stop_ctx;
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(i == 0 ? std::string("no-such-pod") : pod);
    v1::StopPodSandboxResponse stop_resp;
    EXPECT_TRUE(runtime_->StopPodSandbox(&stop_ctx, stop, &stop_resp).ok());
  }
  // A stopped pod takes no new containers.
  EXPECT_EQ(CreateContainer(pod, pod_config, "late", "true", &dup).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PodLifecycleTest, RecoveryAfterKill9) {
  v1::PodSandboxConfig pod_config = PodConfig("survivor");
  std::string pod = RunPod(pod_config);
  std::string keeps;
  std::string ends;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "keeps", "while true; do busybox sleep 1; done",
                              &keeps)
                  .ok());
  ASSERT_TRUE(CreateContainer(pod, pod_config, "ends",
                              "while [ ! -e /tmp/go ]; do busybox sleep 0.1; done; exit 42", &ends)
                  .ok());
  ASSERT_TRUE(StartContainer(keeps).ok());
  ASSERT_TRUE(StartContainer(ends).ok());

  daemon_->Signal(SIGKILL);
  ASSERT_TRUE(daemon_->WaitExit(5s).has_value());
  // While cricketd is down, one container ends (its shim records how).
  const std::string rootfs = state() + "/containers/" + ends + "/rootfs";
  ASSERT_TRUE(WriteFileAtomic(rootfs + "/tmp/go", "", 0644).ok());
  const std::string exit_record = state() + "/shims/" + ends.substr(0, 16) + "/exit.json";
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(exit_record); }))
      << "the container did not end while cricketd was down";

  Start();
  EXPECT_EQ(Status(keeps).state(), v1::CONTAINER_RUNNING);
  v1::ContainerStatus ended = Status(ends);
  EXPECT_EQ(ended.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(ended.exit_code(), 42);
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(keeps, "echo still here", &out).ok());
  EXPECT_EQ(out.stdout(), "still here\n");
}

// CheckpointContainer freezes a container from its dump until its files are packed; a cricketd
// killed in between leaves it frozen. The start-up reconcile thaws it (CRI has no paused state).
TEST_F(PodLifecycleTest, AContainerLeftFrozenIsThawedAtStartUp) {
  v1::PodSandboxConfig pod_config = PodConfig("frozen");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());

  daemon_->Signal(SIGKILL);
  ASSERT_TRUE(daemon_->WaitExit(5s).has_value());
  auto cgroups = oci::DetectCgroups();
  ASSERT_TRUE(cgroups.ok()) << cgroups.error().message();
  LinuxSyscalls sys;
  const std::string path = CgroupDriver() == "systemd"
                               ? "/cricket.slice/cricket-" + ctr + ".scope"
                               : "/cricket/" + ctr;
  auto cgroup = oci::NewCgroupManager(sys, *cgroups, path);
  ASSERT_TRUE(cgroup->Freeze(true).ok());  // what a checkpoint cut short leaves
  // Thawed again whatever happens: a frozen container cannot be killed, nor its pod removed.
  Cleanup thaw([&] { (void)cgroup->Freeze(false); });

  Start();
  EXPECT_FALSE(cgroup->Frozen().value_or(true)) << "still frozen after the restart";
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "echo thawed", &out).ok());
  EXPECT_EQ(out.stdout(), "thawed\n");
}

// A RuntimeClass handler configured with an external OCI runtime (Debian's runc): the pod's
// containers run through it, everything else works as with Cricket's own runtime.
TEST_F(PodLifecycleTest, ARuntimeHandlerRunsContainersThroughAnExternalRuntime) {
  if (::access("/usr/sbin/runc", X_OK) != 0) {
    if (std::getenv("CI") != nullptr) {
      FAIL() << "runc is missing; hack/packages.d/oci.list installs it";
    }
    GTEST_SKIP() << "needs Debian's runc";
  }
  WriteConfig("[runtimes.\"runc\"]\npath = \"/usr/sbin/runc\"\n");
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->WaitExit(10s).has_value());
  Start();
  {
    grpc::ClientContext ctx;
    v1::StatusResponse status;
    ASSERT_TRUE(runtime_->Status(&ctx, {}, &status).ok());
    ASSERT_EQ(status.runtime_handlers_size(), 2);
    EXPECT_EQ(status.runtime_handlers(1).name(), "runc");
  }
  v1::PodSandboxConfig pod_config = PodConfig("runc");
  std::string pod;
  for (const char* handler : {"no-such-handler", "runc"}) {
    grpc::ClientContext ctx;
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = pod_config;
    req.set_runtime_handler(handler);
    v1::RunPodSandboxResponse resp;
    grpc::Status ran = runtime_->RunPodSandbox(&ctx, req, &resp);
    if (std::string(handler) == "runc") {
      ASSERT_TRUE(ran.ok()) << ran.error_message();
      pod = resp.pod_sandbox_id();
    } else {
      EXPECT_EQ(ran.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(ran.error_message().find("no-such-handler"), std::string::npos);
    }
  }
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c",
                              "trap 'exit 7' QUIT TERM; echo up; "
                              "while true; do busybox sleep 1 & wait $!; done",
                              &ctr)
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  EXPECT_TRUE(std::filesystem::exists(state() + "/runtimes/runc/" + ctr + "/state.json"));
  EXPECT_FALSE(std::filesystem::exists(state() + "/runtime/" + ctr));
  ASSERT_TRUE(WaitFor([&] { return ReadLog("runc", "c").find(" stdout F up") != std::string::npos; }));
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "busybox hostname; exit 3", &out).ok());
  EXPECT_EQ(out.stdout(), "runc-host\n");
  EXPECT_EQ(out.exit_code(), 3);
  {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    ASSERT_TRUE(runtime_->PodSandboxStatus(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status().runtime_handler(), "runc");
  }
  {
    grpc::ClientContext ctx;
    v1::UpdateContainerResourcesRequest req;
    req.set_container_id(ctr);
    req.mutable_linux()->set_memory_limit_in_bytes(48 << 20);
    v1::UpdateContainerResourcesResponse resp;
    grpc::Status updated = runtime_->UpdateContainerResources(&ctx, req, &resp);
    EXPECT_TRUE(updated.ok()) << updated.error_message();
  }
  ASSERT_TRUE(Stop(ctr, 10).ok());
  v1::ContainerStatus stopped = Status(ctr);
  EXPECT_EQ(stopped.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(stopped.exit_code(), 7);
  grpc::ClientContext rm_ctx;
  v1::RemovePodSandboxRequest rm;
  rm.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse removed;
  ASSERT_TRUE(runtime_->RemovePodSandbox(&rm_ctx, rm, &removed).ok());
  EXPECT_EQ(Entries(state() + "/runtimes/runc"), 0u);
  EXPECT_EQ(Entries(state() + "/shims"), 0u);
}

// A shim killed from outside (OOM killer, an admin) must not make its container unremovable.
TEST_F(PodLifecycleTest, RemoveWorksWhenTheShimsAreGone) {
  v1::PodSandboxConfig pod_config = PodConfig("orphan");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  ASSERT_TRUE(std::filesystem::exists(state() + "/runtime/" + ctr + "/state.json"));
  for (const std::string& id : {ctr, pod}) {
    auto shim_pid = ReadFile(state() + "/shims/" + id.substr(0, 16) + "/shim.pid");
    ASSERT_TRUE(shim_pid.ok()) << id;
    ASSERT_EQ(::kill(std::stoi(*shim_pid), SIGKILL), 0);
  }
  grpc::ClientContext ctx;
  v1::RemovePodSandboxRequest rm;
  rm.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse removed;
  grpc::Status status = runtime_->RemovePodSandbox(&ctx, rm, &removed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Entries(state() + "/runtime"), 0u);
  EXPECT_EQ(Entries(state() + "/shims"), 0u);
  EXPECT_EQ(Entries(state() + "/containers"), 0u);
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/cricket/" + ctr));
  EXPECT_FALSE(std::filesystem::exists(V2CgroupDir(ctr)));
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/cricket/" + pod));
}

// This node lacks CAP_SYS_RESOURCE: a negative oom_score_adj is clamped, never refused.
TEST_F(PodLifecycleTest, OomScoreAdjIsAppliedOrClampedNeverFatal) {
  v1::PodSandboxConfig pod_config = PodConfig("oomadj");
  std::string pod = RunPod(pod_config);
  for (int64_t want : {500, -998}) {
    std::optional<int> got =
        StartedOomScoreAdj(pod, pod_config, "c" + std::to_string(want + 1000), want);
    ASSERT_TRUE(got.has_value());
    if (want > 0) {
      EXPECT_EQ(*got, want);
    } else {
      EXPECT_GE(*got, want);
      EXPECT_LE(*got, 0);
    }
  }
}

// cricketd reads its oom_score_adj floor once, at start-up: a container's request is clamped to
// the value cricketd started with, not to whatever cricketd's own value became later.
TEST_F(PodLifecycleTest, OomScoreAdjFloorIsReadOnceAtStart) {
  const std::string own = "/proc/" + std::to_string(daemon_->pid()) + "/oom_score_adj";
  auto at_start = ReadFile(own);
  ASSERT_TRUE(at_start.ok()) << at_start.error().ToString();
  const int start = std::stoi(*at_start);
  ASSERT_LE(start, 600) << "cricketd runs with an oom_score_adj too high for this test";
  // Raising one's own value needs no capability; shims started from now on inherit it.
  ASSERT_TRUE(WriteKernelFile(own, std::to_string(start + 300)).ok());
  v1::PodSandboxConfig pod_config = PodConfig("oomfloor");
  std::string pod = RunPod(pod_config);

  std::optional<int> got = StartedOomScoreAdj(pod, pod_config, "c", start + 100);

  EXPECT_EQ(got, start + 100);
}

TEST_F(PodLifecycleTest, AHostDeviceIsUsableAtItsContainerPath) {
  v1::PodSandboxConfig pod_config = PodConfig("devices");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 100", &ctr, false,
                              [](v1::ContainerConfig& c) {
                                v1::Device& d = *c.add_devices();
                                d.set_host_path("/dev/zero");
                                d.set_container_path("/dev/myzero");
                                d.set_permissions("r");
                              })
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr,
                   "busybox stat -c '%F %t:%T' /dev/myzero; "
                   "busybox head -c 4 /dev/myzero | busybox wc -c",
                   &out)
                  .ok());
  EXPECT_EQ(out.stdout(), "character special file 1:5\n4\n") << out.stderr();
}

}  // namespace
}  // namespace cricket
