#include "tests/fuzz/streaming_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/token_cache.h"
#include "tests/fuzz/fuzz_check.h"

namespace cricket::fuzz {
namespace {

using namespace cricket::cri::streaming;
using namespace std::chrono_literals;

class FakeRuntime : public StreamingRuntime {
 public:
  Result<int> RunExecSession(const std::string& /*container_id*/,
                             const std::vector<std::string>& /*cmd*/, StreamSet& io) override {
    char buf[4096];
    while (io.stdin_fd.valid() && read(io.stdin_fd.get(), buf, sizeof(buf)) > 0) {
    }
    if (io.stdout_fd.valid()) {
      (void)!write(io.stdout_fd.get(), "ok\n", 3);
    }
    return 0;
  }
  Result<void> RunAttachSession(const std::string& /*container_id*/, StreamSet& /*io*/) override {
    return Ok();
  }
  Result<UniqueFd> PortForwardConnect(const std::string& /*sandbox_id*/,
                                      uint16_t /*port*/) override {
    return Error(Code::kUnavailable, "fuzz: no pod network");
  }
};

void Replace(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

awaitable<void> Serve(asio::ip::tcp::socket socket, ServeContext ctx, TokenCache& tokens,
                      const StreamingServerOptions& options, bool& done) {
  co_await ServeConnection(std::move(socket), ctx, tokens, options);
  done = true;
}

}  // namespace

void ServeOneConnection(std::string client_bytes) {
  static FakeRuntime runtime;
  TokenCache tokens(60s);
  auto exec = tokens.Insert(ExecRequest{"ctr", {"sh"}, false, true, true, true});
  auto attach = tokens.Insert(AttachRequest{"ctr", true, true, true, false});
  auto forward = tokens.Insert(PortForwardRequest{"pod", {80}});
  FUZZ_CHECK(exec.ok() && attach.ok() && forward.ok());
  Replace(client_bytes, "{exec}", *exec);
  Replace(client_bytes, "{attach}", *attach);
  Replace(client_bytes, "{portforward}", *forward);

  int fds[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  // The client: sends everything, half-closes, and reads until the server closes.
  std::thread client([fd = fds[1], bytes = std::move(client_bytes)] {
    (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    // CRICKET_FUZZ_DEBUG=1 shows what the server answered (for writing seeds).
    const bool show = getenv("CRICKET_FUZZ_DEBUG") != nullptr;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) {
      if (show) {
        (void)!write(2, buf, static_cast<size_t>(n));
      }
    }
    close(fd);
  });

  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.assign(asio::ip::tcp::v4(), fds[0]);
  StreamingServerOptions options;
  options.request_timeout = 2s;
  ServeContext ctx{&runtime, std::make_shared<Lifeline>(io.get_executor()), 1s, 500ms, 100ms};
  bool done = false;
  asio::co_spawn(io, Serve(std::move(socket), ctx, tokens, options, done), asio::detached);
  io.run_for(10s);
  ctx.lifeline->Cut();
  FUZZ_CHECK(done);
  io.stop();
  client.join();
}

}  // namespace cricket::fuzz
