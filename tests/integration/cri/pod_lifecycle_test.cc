// Pods and containers end to end through a real cricketd: sandboxes with their own network and
// infra process, containers from a pulled image, logs, exec, stop, remove, and recovery after
// cricketd is killed. Root; images come from the local registry fixture (hack/test-registry).

#include <gtest/gtest.h>
#include <iostream>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "common/files.h"
#include "cri/streaming/streaming_client.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

class PodLifecycleTest : public ::cricket::testing::PodFixture {};

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
                           : "/sys/fs/cgroup/cricket/" + second + "/memory.max")
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
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/cricket/" + ctr));
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/cricket/" + pod));
}

// This node lacks CAP_SYS_RESOURCE: a negative oom_score_adj is clamped, never refused.
TEST_F(PodLifecycleTest, OomScoreAdjIsAppliedOrClampedNeverFatal) {
  v1::PodSandboxConfig pod_config = PodConfig("oomadj");
  std::string pod = RunPod(pod_config);
  for (int64_t want : {500, -998}) {
    std::string ctr;
    ASSERT_TRUE(CreateContainer(pod, pod_config, "c" + std::to_string(want + 1000),
                                "busybox cat /proc/self/oom_score_adj > /tmp/adj; "
                                "exec busybox sleep 100",
                                &ctr, false,
                                [&](v1::ContainerConfig& c) {
                                  c.mutable_linux()->mutable_resources()->set_oom_score_adj(want);
                                })
                    .ok());
    ASSERT_TRUE(StartContainer(ctr).ok());
    v1::ExecSyncResponse out;
    ASSERT_TRUE(WaitFor([&] { return Exec(ctr, "busybox cat /tmp/adj", &out).ok() &&
                                     !out.stdout().empty(); }));
    int got = std::stoi(out.stdout());
    if (want > 0) {
      EXPECT_EQ(got, want);
    } else {
      EXPECT_GE(got, want);
      EXPECT_LE(got, 0);
    }
  }
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

namespace cricket {
namespace {

namespace streaming = ::cricket::cri::streaming;

// Exec through the streaming URL cricketd hands out, as kubelet and kubectl use it.
TEST_F(PodLifecycleTest, ExecThroughTheStreamingServerOverSpdyAndWebSocket) {
  v1::PodSandboxConfig pod_config = PodConfig("stream");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  for (auto transport : {streaming::Transport::kSpdy, streaming::Transport::kWebSocket}) {
    for (auto [script, out, code] : {std::tuple{"echo -n hello", "hello", 0},
                                     std::tuple{"echo -n bye; exit 3", "bye", 3}}) {
      grpc::ClientContext ctx;
      v1::ExecRequest req;
      req.set_container_id(ctr);
      req.add_cmd("/bin/sh");
      req.add_cmd("-c");
      req.add_cmd(script);
      req.set_stdout(true);
      v1::ExecResponse resp;
      grpc::Status status = runtime_->Exec(&ctx, req, &resp);
      ASSERT_TRUE(status.ok()) << status.error_message();
      streaming::RemoteCommandOptions options;
      options.transport = transport;
      options.protocol = transport == streaming::Transport::kSpdy ? "v4.channel.k8s.io"
                                                                  : "v5.channel.k8s.io";
      auto result = streaming::RunRemoteCommand(resp.url(), options);
      ASSERT_TRUE(result.ok()) << result.error().ToString();
      EXPECT_EQ(result->stdout_data, out);
      EXPECT_EQ(result->exit_code, code);
      // The URL is single-use.
      EXPECT_EQ(streaming::RunRemoteCommand(resp.url(), options).error().code(),
                Code::kNotFound);
    }
  }
  // Stdin reaches the process.
  grpc::ClientContext ctx;
  v1::ExecRequest req;
  req.set_container_id(ctr);
  req.add_cmd("busybox");
  req.add_cmd("cat");
  req.set_stdin(true);
  req.set_stdout(true);
  v1::ExecResponse resp;
  ASSERT_TRUE(runtime_->Exec(&ctx, req, &resp).ok());
  streaming::RemoteCommandOptions options;
  options.stdin = true;
  options.stdin_data = "typed\n";
  auto echoed = streaming::RunRemoteCommand(resp.url(), options);
  ASSERT_TRUE(echoed.ok()) << echoed.error().ToString();
  EXPECT_EQ(echoed->stdout_data, "typed\n");
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

// Port-forward into the pod's network namespace and attach to a running container, through
// cricketd's streaming URLs, over both transports.
TEST_F(PodLifecycleTest, PortForwardAndAttachThroughTheStreamingServer) {
  v1::PodSandboxConfig pod_config = PodConfig("pf");
  std::string pod = RunPod(pod_config);
  std::string echo;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "echo",
                              "exec busybox nc -ll -p 8080 -e /bin/busybox cat", &echo)
                  .ok());
  ASSERT_TRUE(StartContainer(echo).ok());
  std::string cat;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "cat", "exec busybox cat", &cat, true).ok());
  ASSERT_TRUE(StartContainer(cat).ok());
  std::string payload(100 * 1024, 'p');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>('a' + i % 26);
  }
  for (auto transport : {streaming::Transport::kSpdy, streaming::Transport::kWebSocket}) {
    std::vector<std::string> echoed;
    // The listener may need a moment to bind after the container starts.
    for (int attempt = 0; attempt < 50; ++attempt) {
      grpc::ClientContext ctx;
      v1::PortForwardRequest req;
      req.set_pod_sandbox_id(pod);
      req.add_port(8080);
      v1::PortForwardResponse resp;
      ASSERT_TRUE(runtime_->PortForward(&ctx, req, &resp).ok());
      streaming::PortForwardOptions options;
      options.transport = transport;
      options.port = 8080;
      auto result = streaming::RunPortForward(resp.url(), options, {payload});
      if (result.ok() && result->size() == 1 && result->front() == payload) {
        echoed = *result;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(echoed.size(), 1u) << "no 100 KiB round trip through port-forward";

    grpc::ClientContext ctx;
    v1::AttachRequest req;
    req.set_container_id(cat);
    req.set_stdin(true);
    req.set_stdout(true);
    v1::AttachResponse resp;
    ASSERT_TRUE(runtime_->Attach(&ctx, req, &resp).ok());
    streaming::RemoteCommandOptions options;
    options.transport = transport;
    options.protocol = transport == streaming::Transport::kSpdy ? "v4.channel.k8s.io"
                                                                : "v5.channel.k8s.io";
    options.stdin = true;
    options.stdin_data = "through attach\n";
    options.timeout = 5s;
    auto attached = streaming::RunRemoteCommand(resp.url(), options);
    // The session ends when the client closes stdin; what cat echoed came back first.
    if (attached.ok()) {
      EXPECT_EQ(attached->stdout_data, "through attach\n");
    } else {
      ADD_FAILURE() << attached.error().ToString();
    }
  }
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

TEST_F(PodLifecycleTest, TtyExecWithResizeAndHostNetworkPortForward) {
  // A terminal exec sees the size the client sent.
  v1::PodSandboxConfig pod_config = PodConfig("tty");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  for (auto transport : {streaming::Transport::kSpdy, streaming::Transport::kWebSocket}) {
    grpc::ClientContext ctx;
    v1::ExecRequest req;
    req.set_container_id(ctr);
    req.add_cmd("/bin/sh");
    req.add_cmd("-c");
    // The resize travels beside stdin; give it a moment before asking the terminal.
    req.add_cmd("read line; busybox sleep 1; busybox stty size; exit 5");
    req.set_tty(true);
    req.set_stdin(true);
    req.set_stdout(true);
    v1::ExecResponse resp;
    ASSERT_TRUE(runtime_->Exec(&ctx, req, &resp).ok());
    streaming::RemoteCommandOptions options;
    options.transport = transport;
    options.protocol = transport == streaming::Transport::kSpdy ? "v4.channel.k8s.io"
                                                                : "v5.channel.k8s.io";
    options.tty = true;
    options.stdin = true;
    options.stdout = true;
    options.resizes = {{100, 40}};
    options.stdin_data = "go\n";
    auto result = streaming::RunRemoteCommand(resp.url(), options);
    ASSERT_TRUE(result.ok()) << result.error().ToString();
    EXPECT_NE(result->stdout_data.find("40 100"), std::string::npos) << result->stdout_data;
    EXPECT_EQ(result->exit_code, 5);
  }

  // Port-forward into a host-network pod reaches the node's own port.
  v1::PodSandboxConfig host_config = PodConfig("hostnet");
  host_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()
      ->set_network(v1::NODE);
  std::string host_pod = RunPod(host_config);
  std::string listener;
  ASSERT_TRUE(CreateContainer(host_pod, host_config, "echo",
                              "exec busybox nc -ll -p 18611 -e /bin/busybox cat", &listener)
                  .ok());
  ASSERT_TRUE(StartContainer(listener).ok());
  const std::string payload(100 * 1024, 'h');
  for (auto transport : {streaming::Transport::kSpdy, streaming::Transport::kWebSocket}) {
    bool round_trip = false;
    for (int attempt = 0; attempt < 50 && !round_trip; ++attempt) {
      grpc::ClientContext ctx;
      v1::PortForwardRequest req;
      req.set_pod_sandbox_id(host_pod);
      req.add_port(18611);
      v1::PortForwardResponse resp;
      ASSERT_TRUE(runtime_->PortForward(&ctx, req, &resp).ok());
      streaming::PortForwardOptions options;
      options.transport = transport;
      options.port = 18611;
      auto result = streaming::RunPortForward(resp.url(), options, {payload});
      round_trip = result.ok() && result->size() == 1 && result->front() == payload;
      if (!round_trip) {
        std::this_thread::sleep_for(100ms);
      }
    }
    EXPECT_TRUE(round_trip) << "no 100 KiB round trip into the host-network pod";
  }
}

}  // namespace
}  // namespace cricket
