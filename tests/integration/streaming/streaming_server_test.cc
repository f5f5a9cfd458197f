// The streaming server end to end: real processes, real sockets, the C++ client on both SPDY
// and WebSocket. No root needed; port-forward here dials the test's own loopback (a
// host-network pod). port_forward_netns_test.cc covers pod network namespaces as root.

#include "cri/streaming/streaming_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "cri/streaming/streaming_client.h"
#include "tests/integration/streaming/echo_server.h"
#include "tests/integration/streaming/process_runtime.h"

namespace cricket::cri::streaming {
namespace {

using testing::EchoServer;
using testing::ProcessRuntime;

class StreamingServerTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override { StartServer(StreamingServerOptions{}); }

  void StartServer(StreamingServerOptions options) {
    server_.reset();
    auto server = StreamingServer::Start(options, runtime_);
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    server_ = std::move(*server);
  }

  std::string ExecUrl(std::vector<std::string> cmd, bool in, bool out, bool err, bool tty) {
    ExecRequest req{"ctr", std::move(cmd), tty, in, out, err};
    auto url = server_->GetExec(req);
    EXPECT_TRUE(url.ok()) << url.error().ToString();
    return url.ok() ? *url : "";
  }

  RemoteCommandOptions Options(bool in, bool out, bool err, bool tty) {
    RemoteCommandOptions o;
    o.transport = GetParam();
    // v5 over WebSocket: stdin needs its close signal.
    o.protocol = GetParam() == Transport::kWebSocket ? "v5.channel.k8s.io" : "v4.channel.k8s.io";
    o.stdin = in;
    o.stdout = out;
    o.stderr = err;
    o.tty = tty;
    return o;
  }

  ProcessRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_P(StreamingServerTest, ExecEchoStdoutOnly) {
  auto result = RunRemoteCommand(ExecUrl({"echo", "-n", "hello"}, false, true, false, false),
                                 Options(false, true, false, false));
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "hello");
  EXPECT_EQ(result->exit_code, 0) << result->status;
  EXPECT_EQ(result->status, R"({"metadata":{},"status":"Success"})");
}

TEST_P(StreamingServerTest, ExecStdinIsEchoedByCat) {
  auto options = Options(true, true, true, false);
  options.stdin_data = "line one\nline two\n";
  auto result = RunRemoteCommand(ExecUrl({"cat"}, true, true, true, false), options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "line one\nline two\n");
  EXPECT_EQ(result->stderr_data, "");
  EXPECT_EQ(result->exit_code, 0);
}

TEST_P(StreamingServerTest, ExecSeparatesStderr) {
  auto result =
      RunRemoteCommand(ExecUrl({"sh", "-c", "echo out; echo err >&2"}, false, true, true, false),
                       Options(false, true, true, false));
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_data, "err\n");
}

TEST_P(StreamingServerTest, ExecTtyAppliesResize) {
  auto options = Options(false, true, false, true);
  options.resizes = {{100, 40}};
  // Polls until the size arrives (up to 10 s), so a loaded machine does not make it flaky.
  std::string script =
      "for i in $(seq 100); do s=$(stty size); [ \"$s\" = \"40 100\" ] && break; sleep 0.1; "
      "done; echo \"size $s\"";
  auto result = RunRemoteCommand(ExecUrl({"sh", "-c", script}, false, true, false, true), options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_NE(result->stdout_data.find("size 40 100"), std::string::npos) << result->stdout_data;
  EXPECT_EQ(result->exit_code, 0);
}

TEST_P(StreamingServerTest, ExecInteractiveShellOnTty) {
  auto options = Options(true, true, false, true);
  options.resizes = {{80, 24}};
  options.stdin_data = "echo from-the-shell\nexit 5\n";
  auto result = RunRemoteCommand(ExecUrl({"sh"}, true, true, false, true), options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_NE(result->stdout_data.find("from-the-shell"), std::string::npos) << result->stdout_data;
  EXPECT_EQ(result->exit_code, 5) << result->status;
}

TEST_P(StreamingServerTest, ExecExitCodeThreeIsReported) {
  auto result = RunRemoteCommand(ExecUrl({"sh", "-c", "exit 3"}, false, true, false, false),
                                 Options(false, true, false, false));
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->exit_code, 3) << result->status;
  EXPECT_NE(result->status.find(R"("reason":"NonZeroExitCode")"), std::string::npos);
  EXPECT_NE(result->status.find(R"({"reason":"ExitCode","message":"3"})"), std::string::npos);
}

TEST_P(StreamingServerTest, ExecOfUnknownContainerReportsFailure) {
  ExecRequest req{"missing", {"true"}, false, false, true, false};
  auto result = RunRemoteCommand(*server_->GetExec(req), Options(false, true, false, false));
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_FALSE(result->exit_code.has_value());
  EXPECT_NE(result->status.find("Failure"), std::string::npos);
  EXPECT_NE(result->status.find("not found"), std::string::npos);
}

TEST_P(StreamingServerTest, AttachToRunningContainer) {
  ASSERT_TRUE(
      runtime_.StartContainer("app", {"sh", "-c", "read line; echo \"attached: $line\""}).ok());
  auto url = server_->GetAttach(AttachRequest{"app", false, true, true, false});
  ASSERT_TRUE(url.ok());
  auto options = Options(true, true, false, false);
  options.stdin_data = "hi\n";
  auto result = RunRemoteCommand(*url, options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "attached: hi\n");
  EXPECT_EQ(result->exit_code, 0) << result->status;
}

TEST_P(StreamingServerTest, PortForwardRoundTrip100KiB) {
  auto echo = EchoServer::Start();
  ASSERT_TRUE(echo.ok()) << echo.error().ToString();
  runtime_.AddSandbox("pod", "");
  auto url = server_->GetPortForward(PortForwardRequest{"pod", {(*echo)->port()}});
  ASSERT_TRUE(url.ok());
  std::string payload(100 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>(i * 7 + i / 251);
  }
  PortForwardOptions options{GetParam(), (*echo)->port()};
  auto result = RunPortForward(*url, options, {payload});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_TRUE((*result)[0] == payload) << "got " << (*result)[0].size() << " bytes";
}

TEST_P(StreamingServerTest, PortForwardToClosedPortReportsError) {
  runtime_.AddSandbox("pod", "");
  auto url = server_->GetPortForward(PortForwardRequest{"pod", {}});
  ASSERT_TRUE(url.ok());
  PortForwardOptions options{GetParam(), 1};  // nothing listens on port 1
  auto result = RunPortForward(*url, options, {"x"});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("error forwarding port 1"), std::string::npos)
      << result.error().ToString();
}

TEST_P(StreamingServerTest, TokenIsSingleUse) {
  std::string url = ExecUrl({"true"}, false, true, false, false);
  ASSERT_TRUE(RunRemoteCommand(url, Options(false, true, false, false)).ok());
  auto again = RunRemoteCommand(url, Options(false, true, false, false));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kNotFound) << again.error().ToString();
}

TEST_P(StreamingServerTest, ExpiredTokenIsNotFound) {
  StreamingServerOptions options;
  options.token_ttl = std::chrono::milliseconds(50);
  StartServer(options);
  std::string url = ExecUrl({"true"}, false, true, false, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto result = RunRemoteCommand(url, Options(false, true, false, false));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kNotFound);
}

TEST_P(StreamingServerTest, IdleConnectionIsClosed) {
  StreamingServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(300);
  StartServer(options);
  auto start = std::chrono::steady_clock::now();
  // The process would run for a minute; the connection is cut after 300 ms idle. (It ran for
  // 2 s with a 1.8 s bound, which a loaded machine missed.)
  auto result = RunRemoteCommand(ExecUrl({"sleep", "60"}, false, true, false, false),
                                 Options(false, true, false, false));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(45));  // well before the process exits
  if (result.ok()) {
    EXPECT_FALSE(result->exit_code.has_value());  // cut off before any status
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamingServerTest,
                         ::testing::Values(Transport::kSpdy, Transport::kWebSocket),
                         [](const auto& param_info) {
                           return param_info.param == Transport::kSpdy ? "Spdy" : "WebSocket";
                         });

class StreamingServerSingleTransportTest : public StreamingServerTest {};

TEST_F(StreamingServerSingleTransportTest, ManyConcurrentForwardsOnOneConnection) {
  auto echo = EchoServer::Start();
  ASSERT_TRUE(echo.ok());
  runtime_.AddSandbox("pod", "");
  auto url = server_->GetPortForward(PortForwardRequest{"pod", {}});
  ASSERT_TRUE(url.ok());
  std::vector<std::string> payloads;
  for (int i = 0; i < 32; ++i) {
    payloads.push_back(std::string(8 * 1024 + i, static_cast<char>('a' + i % 26)));
  }
  auto result =
      RunPortForward(*url, PortForwardOptions{Transport::kSpdy, (*echo)->port()}, payloads);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(*result, payloads);
}

TEST_F(StreamingServerSingleTransportTest, WebSocketV4WithoutStdin) {
  RemoteCommandOptions options;
  options.transport = Transport::kWebSocket;
  options.protocol = "v4.channel.k8s.io";
  auto result =
      RunRemoteCommand(ExecUrl({"echo", "-n", "hello"}, false, true, false, false), options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "hello");
  EXPECT_EQ(result->exit_code, 0);
}

TEST_F(StreamingServerSingleTransportTest, OlderProtocolsReportExitAsText) {
  RemoteCommandOptions options;
  options.protocol = "v2.channel.k8s.io";
  auto result =
      RunRemoteCommand(ExecUrl({"sh", "-c", "exit 3"}, false, true, false, false), options);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_NE(result->status.find("exit code 3"), std::string::npos) << result->status;
}

TEST_F(StreamingServerSingleTransportTest, UnknownProtocolIsForbidden) {
  RemoteCommandOptions options;
  options.protocol = "v9.channel.k8s.io";
  auto result = RunRemoteCommand(ExecUrl({"true"}, false, true, false, false), options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kPermissionDenied);
}

TEST_F(StreamingServerSingleTransportTest, RejectsInvalidRequests) {
  EXPECT_EQ(server_->GetExec(ExecRequest{"c", {"sh"}, true, false, true, true}).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(server_->GetExec(ExecRequest{"c", {"sh"}, false, false, false, false}).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(server_->GetExec(ExecRequest{"", {"sh"}, false, false, true, false}).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(server_->GetPortForward(PortForwardRequest{}).error().code(), Code::kInvalidArgument);
}

// Sends `bytes` after a SPDY upgrade on a raw socket and reports whether the server closed it.
bool ServerClosesAfter(uint16_t port, const std::string& path, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    ::close(fd);
    return false;
  }
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                    "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n" +
                    bytes;
  (void)!::write(fd, req.data(), req.size());
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  bool closed = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      closed = true;
      break;
    }
    if (n < 0) {
      break;  // timeout: still open
    }
  }
  ::close(fd);
  return closed;
}

// Sends a raw HTTP request and returns the status line.
std::string HttpStatusLine(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    (void)!::write(fd, request.data(), request.size());
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
      response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return response.substr(0, response.find("\r\n"));
}

TEST_F(StreamingServerSingleTransportTest, HttpErrors) {
  std::string url = ExecUrl({"true"}, false, true, false, false);
  std::string path = url.substr(url.find('/', 7));
  std::string token = path.substr(path.rfind('/') + 1);
  uint16_t port = server_->port();
  // An exec token on the attach path is not found, and is spent.
  EXPECT_EQ(HttpStatusLine(port, "GET /attach/" + token + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(HttpStatusLine(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(HttpStatusLine(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 404 Not Found");
  // A valid token without an upgrade.
  std::string plain = ExecUrl({"true"}, false, true, false, false);
  EXPECT_EQ(HttpStatusLine(
                port, "GET " + plain.substr(plain.find('/', 7)) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  // Garbage instead of HTTP just closes the connection.
  EXPECT_EQ(HttpStatusLine(port, "\x16\x03\x01 not http\r\n\r\n"), "");
}

TEST_F(StreamingServerSingleTransportTest, MalformedFrameClosesOnlyThatConnection) {
  std::string url = ExecUrl({"true"}, false, true, false, false);
  std::string path = url.substr(url.find('/', 7));
  // A control frame with version 2 is a session error.
  std::string garbage("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12);
  EXPECT_TRUE(ServerClosesAfter(server_->port(), path, garbage));
  // The server is still serving others.
  auto result = RunRemoteCommand(ExecUrl({"echo", "-n", "ok"}, false, true, false, false),
                                 RemoteCommandOptions{});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "ok");
}

}  // namespace
}  // namespace cricket::cri::streaming
