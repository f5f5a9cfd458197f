// Exec, attach and port-forward through the streaming URLs cricketd hands out, as kubelet and
// kubectl use them, over SPDY/3.1 and WebSocket. Root; images from the registry fixture.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cri/streaming/streaming_client.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;
namespace streaming = ::cricket::cri::streaming;
using ::cricket::testing::PodLifecycleTest;

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
