// The streaming server's connection cap (#13 item 6): a connection over max_connections is
// refused at once (503 and close) instead of waiting for a slot; those within it are served, and
// a slot freed by a closed connection takes a new one.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "cri/streaming/streaming_client.h"
#include "cri/streaming/streaming_server.h"
#include "tests/integration/streaming/process_runtime.h"
#include "tests/support/wait_until.h"

namespace cricket::cri::streaming {
namespace {

using namespace std::chrono_literals;

UniqueFd Connect(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// What the server sends until it closes the connection or `wait` passes ("<timeout>" then).
std::string ReadUntilClosed(int fd, std::chrono::milliseconds wait) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) {
      continue;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return out;  // EOF or reset: closed
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out + "<timeout>";
}

// A request the server answers with 404 (no such token): proof that it serves `fd`.
std::string AskUnknownToken(int fd) {
  std::string req = "GET /exec/no-such-token HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  return ReadUntilClosed(fd, 60s);
}

TEST(StreamingConnectionLimitTest, ConnectionOverTheCapIsRefusedAtOnce) {
  testing::ProcessRuntime runtime;
  StreamingServerOptions options;
  options.max_connections = 2;
  auto server = StreamingServer::Start(options, runtime);
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  uint16_t port = (*server)->port();

  // Two idle connections (no request yet) hold both slots; the server accepts in order.
  UniqueFd first = Connect(port);
  UniqueFd second = Connect(port);
  UniqueFd third = Connect(port);
  // Refused within moments, not after the 30 s request timeout or never (20 s: room for a loaded
  // machine, still below that timeout).
  std::string refused = ReadUntilClosed(third.get(), 20s);
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503") || refused.empty()) << refused;

  // The two within the cap are still served.
  EXPECT_TRUE(AskUnknownToken(first.get()).starts_with("HTTP/1.1 404")) << "first";
  EXPECT_TRUE(AskUnknownToken(second.get()).starts_with("HTTP/1.1 404")) << "second";
  first.Reset();
  second.Reset();

  // Their slots are free again (the server notices the close asynchronously: retry until it
  // did).
  std::string answer;
  ::cricket::testing::WaitUntil([&] {
    UniqueFd probe = Connect(port);
    answer = AskUnknownToken(probe.get());
    return answer.starts_with("HTTP/1.1 404");
  });
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 404")) << answer;
  // And a real session runs.
  auto url =
      (*server)->GetExec(ExecRequest{"ctr", {"echo", "-n", "again"}, false, false, true, false});
  ASSERT_TRUE(url.ok()) << url.error().ToString();
  RemoteCommandOptions run;
  run.stdout = true;
  auto result = RunRemoteCommand(*url, run);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->stdout_data, "again");
}

TEST(StreamingConnectionLimitTest, NonPositiveCapIsInvalidArgument) {
  testing::ProcessRuntime runtime;
  StreamingServerOptions options;
  options.max_connections = 0;
  auto server = StreamingServer::Start(options, runtime);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::cri::streaming
