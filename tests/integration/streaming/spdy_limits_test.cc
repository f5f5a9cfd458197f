// Flow control, backpressure and stream limits, driven by a raw SPDY client built from the
// codec so the test decides exactly when (and whether) anything is read.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "cri/streaming/spdy_frame.h"
#include "cri/streaming/streaming_server.h"
#include "tests/integration/streaming/process_runtime.h"

namespace cricket::cri::streaming {
namespace {

using namespace std::chrono_literals;

long RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

class RawSpdyClient {
 public:
  // Connects and upgrades `path`; the socket's receive buffer is kept small.
  bool Connect(uint16_t port, const std::string& path,
               const std::string& protocol = "v4.channel.k8s.io") {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int small = 16 * 1024;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      return false;
    }
    std::string req = "POST " + path +
                      " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                      "X-Stream-Protocol-Version: " +
                      protocol + "\r\n\r\n";
    Send(req);
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(fd_.get(), &c, 1) == 1) {
      head.push_back(c);
    }
    return head.find(" 101 ") != std::string::npos;
  }

  void SendFrame(const spdy::Frame& frame) {
    std::string out;
    ASSERT_TRUE(writer_.Write(frame, out).ok());
    Send(out);
  }

  // Reads until `want` DATA bytes arrived on `stream_id` or `wait` passed; returns the count.
  size_t ReadData(uint32_t stream_id, size_t want, std::chrono::milliseconds wait) {
    size_t total = 0;
    auto deadline = std::chrono::steady_clock::now() + wait;
    char buf[16384];
    while (total < want && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      parser_.Feed(std::string_view(buf, static_cast<size_t>(n)));
      for (;;) {
        auto next = parser_.Next();
        if (!next.ok() || !next->has_value()) {
          break;
        }
        if (auto* data = std::get_if<spdy::DataFrame>(&**next);
            data && data->stream_id == stream_id) {
          total += data->data.size();
        }
      }
    }
    return total;
  }

  // Counts RST_STREAM frames with `status` until `want` arrived or `wait` passed.
  size_t CountResets(spdy::RstStatus status, size_t want, std::chrono::milliseconds wait) {
    size_t count = 0;
    auto deadline = std::chrono::steady_clock::now() + wait;
    char buf[16384];
    while (count < want && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      parser_.Feed(std::string_view(buf, static_cast<size_t>(n)));
      for (;;) {
        auto next = parser_.Next();
        if (!next.ok() || !next->has_value()) {
          break;
        }
        if (auto* rst = std::get_if<spdy::RstStreamFrame>(&**next); rst && rst->status == status) {
          ++count;
        }
      }
    }
    return count;
  }

  void Close() { fd_.Reset(); }

 private:
  void Send(const std::string& bytes) { (void)!::write(fd_.get(), bytes.data(), bytes.size()); }

  UniqueFd fd_;
  spdy::FrameWriter writer_;
  spdy::FrameParser parser_{1 << 24};
};

class SpdyLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = StreamingServer::Start({}, runtime_);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
  }

  std::string ExecPath(std::vector<std::string> cmd) {
    auto url = server_->GetExec(ExecRequest{"c", std::move(cmd), false, false, true, false});
    EXPECT_TRUE(url.ok());
    return url->substr(url->find('/', 7));
  }

  testing::ProcessRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_F(SpdyLimitsTest, ClientThatNeverReadsDoesNotGrowServerMemory) {
  // Like Go's spdystream: no SETTINGS, no WINDOW_UPDATE, and here it never reads either.
  RawSpdyClient client;
  ASSERT_TRUE(client.Connect(server_->port(), ExecPath({"yes", "a fairly long line of output"})));
  long before = RssKiB();
  client.SendFrame(spdy::SynStreamFrame{1, 0, 0, 0, false, false, {{"streamtype", "error"}}});
  client.SendFrame(spdy::SynStreamFrame{3, 0, 0, 0, false, false, {{"streamtype", "stdout"}}});
  std::this_thread::sleep_for(1500ms);
  long grown_kib = RssKiB() - before;
  // `yes` writes gigabytes a second; bounded buffering keeps the server within a few MiB.
  EXPECT_LT(grown_kib, 32 * 1024) << "server buffered " << grown_kib << " KiB";
  client.Close();  // yes gets EPIPE once the server drops the pipe
}

TEST_F(SpdyLimitsTest, ServerHonoursStreamWindowAndUpdates) {
  RawSpdyClient client;
  ASSERT_TRUE(client.Connect(server_->port(), ExecPath({"yes"})));
  constexpr uint32_t kWindow = 8 * 1024;
  client.SendFrame(spdy::SettingsFrame{false, {{0, spdy::kSettingsInitialWindowSize, kWindow}}});
  client.SendFrame(spdy::SynStreamFrame{1, 0, 0, 0, false, false, {{"streamtype", "error"}}});
  client.SendFrame(spdy::SynStreamFrame{3, 0, 0, 0, false, false, {{"streamtype", "stdout"}}});
  EXPECT_EQ(client.ReadData(3, kWindow, 60s), kWindow);
  // The window is spent: nothing more comes until we open it again.
  EXPECT_EQ(client.ReadData(3, 1, 300ms), 0u);
  client.SendFrame(spdy::WindowUpdateFrame{3, 4096});
  EXPECT_EQ(client.ReadData(3, 4096, 60s), 4096u);
  EXPECT_EQ(client.ReadData(3, 1, 300ms), 0u);
  client.Close();
}

TEST_F(SpdyLimitsTest, StreamsBeyondTheLimitAreRefused) {
  auto url = server_->GetPortForward(PortForwardRequest{"pod", {}});
  ASSERT_TRUE(url.ok());
  RawSpdyClient client;
  ASSERT_TRUE(
      client.Connect(server_->port(), url->substr(url->find('/', 7)), "portforward.k8s.io"));
  // Error streams whose data stream never comes: each stays open, waiting for its pair.
  for (uint32_t i = 0; i < 1100; ++i) {
    client.SendFrame(spdy::SynStreamFrame{
        2 * i + 1,
        0,
        0,
        0,
        false,
        false,
        {{"streamtype", "error"}, {"port", "80"}, {"requestid", std::to_string(i)}}});
  }
  EXPECT_EQ(client.CountResets(spdy::RstStatus::kRefusedStream, 1100 - 1024, 60s), 1100u - 1024u);
  // And no more than those.
  EXPECT_EQ(client.CountResets(spdy::RstStatus::kRefusedStream, 1, 200ms), 0u);
  client.Close();
}

TEST_F(SpdyLimitsTest, HalfOpenPortForwardPairIsResetAfterTimeout) {
  StreamingServerOptions options;
  options.stream_creation_timeout = 200ms;
  auto server = StreamingServer::Start(options, runtime_);
  ASSERT_TRUE(server.ok());
  auto url = (*server)->GetPortForward(PortForwardRequest{"pod", {}});
  ASSERT_TRUE(url.ok());
  RawSpdyClient client;
  ASSERT_TRUE(
      client.Connect((*server)->port(), url->substr(url->find('/', 7)), "portforward.k8s.io"));
  client.SendFrame(spdy::SynStreamFrame{
      1, 0, 0, 0, false, false, {{"streamtype", "error"}, {"port", "80"}, {"requestid", "0"}}});
  EXPECT_EQ(client.CountResets(spdy::RstStatus::kCancel, 1, 60s), 1u);  // a bound only
  client.Close();
}

}  // namespace
}  // namespace cricket::cri::streaming
