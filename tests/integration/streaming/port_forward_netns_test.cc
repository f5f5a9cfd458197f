// Port-forward into a pod network namespace, as root: the echo server listens on 127.0.0.1
// inside a namespace the test creates, where the host cannot reach it, so the data can only
// arrive through a connection made inside that namespace. main.cc isolates the whole process.

#include <unistd.h>

#include <gtest/gtest.h>

#include "cri/streaming/streaming_client.h"
#include "cri/streaming/streaming_server.h"
#include "network/netns.h"
#include "tests/integration/streaming/echo_server.h"
#include "tests/integration/streaming/process_runtime.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri::streaming {
namespace {

using cricket::testing::EchoServer;
using cricket::testing::ProcessRuntime;
using cricket::testing::TempDir;

class PortForwardNetnsTest : public ::testing::TestWithParam<Transport> {};

TEST_P(PortForwardNetnsTest, RoundTrip100KiBIntoPodNamespace) {
  CR_REQUIRE_ROOT();
  TempDir dir("pfns");
  std::string netns = dir.Join("crtest-" + std::to_string(::getpid()) + "-pod");
  ASSERT_TRUE(network::CreateNetns(netns).ok());
  struct Remove {
    std::string path;
    ~Remove() { (void)network::RemoveNetns(path); }
  } remove{netns};

  auto echo = EchoServer::Start(netns);
  ASSERT_TRUE(echo.ok()) << echo.error().ToString();
  ProcessRuntime runtime;
  runtime.AddSandbox("pod", netns);
  runtime.AddSandbox("host", "");
  auto server = StreamingServer::Start({}, runtime);
  ASSERT_TRUE(server.ok()) << server.error().ToString();

  std::string payload(100 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>((i * 131) ^ (i >> 9));
  }
  PortForwardOptions options{GetParam(), (*echo)->port()};
  auto url = (*server)->GetPortForward(PortForwardRequest{"pod", {(*echo)->port()}});
  ASSERT_TRUE(url.ok());
  auto result = RunPortForward(*url, options, {payload});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE((*result)[0] == payload) << "got " << (*result)[0].size() << " bytes";

  // The same port in the host-network "pod" is closed: the listener exists only in the netns.
  auto host_url = (*server)->GetPortForward(PortForwardRequest{"host", {}});
  ASSERT_TRUE(host_url.ok());
  EXPECT_FALSE(RunPortForward(*host_url, options, {"x"}).ok());
}

INSTANTIATE_TEST_SUITE_P(Transports, PortForwardNetnsTest,
                         ::testing::Values(Transport::kSpdy, Transport::kWebSocket),
                         [](const auto& param_info) {
                           return param_info.param == Transport::kSpdy ? "Spdy" : "WebSocket";
                         });

}  // namespace
}  // namespace cricket::cri::streaming
