// Remote command and port-forward over SPDY: the client opens one stream per purpose, named by
// its "streamtype" header (k8s.io/api/core/v1: StreamType*), and the server replies to each.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <map>

#include "common/log.h"
#include "cri/streaming/port_forward.h"
#include "cri/streaming/serve_sessions.h"

namespace cricket::cri::streaming {

namespace {

struct CommandStreams {
  explicit CommandStreams(const asio::any_io_executor& ex) : changed(ex) {}
  std::shared_ptr<SpdyStream> error, stdin, stdout, stderr, resize;
  AsyncEvent changed;
};

std::shared_ptr<SpdyStream>* Slot(CommandStreams& s, std::string_view type) {
  if (type == "error") {
    return &s.error;
  }
  if (type == "stdin") {
    return &s.stdin;
  }
  if (type == "stdout") {
    return &s.stdout;
  }
  if (type == "stderr") {
    return &s.stderr;
  }
  if (type == "resize") {
    return &s.resize;
  }
  return nullptr;
}

awaitable<void> NotifyWhenClosed(std::shared_ptr<SpdySession> session,
                                 std::shared_ptr<CommandStreams> streams) {
  co_await session->WaitClosed();
  streams->changed.Notify();
}

// Weak: the streams (and through them the session) must not outlive the command by the timeout.
awaitable<void> NotifyAt(std::chrono::steady_clock::time_point deadline,
                         std::weak_ptr<CommandStreams> streams) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (auto s = streams.lock()) {
    s->changed.Notify();
  }
}

}  // namespace

awaitable<void> ServeSpdyRemoteCommand(std::shared_ptr<SpdySession> session, RemoteCommand command,
                                       WantedStreams want, RemoteCommandVersion version,
                                       ServeContext ctx) {
  auto ex = co_await asio::this_coro::executor;
  auto streams = std::make_shared<CommandStreams>(ex);
  session->Start([streams](std::shared_ptr<SpdyStream> stream) {
    auto* slot = Slot(*streams, spdy::FindHeader(stream->headers(), "streamtype"));
    if (slot == nullptr || *slot != nullptr) {
      stream->Reset();  // unknown or duplicate stream type
      return;
    }
    stream->Reply();
    *slot = std::move(stream);
    streams->changed.Notify();
  });
  bool want_stderr = want.stderr && !command.tty;
  bool want_resize = command.tty && version >= RemoteCommandVersion::kV3;
  auto complete = [&] {
    return streams->error && (!want.stdin || streams->stdin) && (!want.stdout || streams->stdout) &&
           (!want_stderr || streams->stderr) && (!want_resize || streams->resize);
  };
  auto deadline = std::chrono::steady_clock::now() + ctx.stream_creation_timeout;
  asio::co_spawn(ex, NotifyWhenClosed(session, streams), asio::detached);
  asio::co_spawn(ex, NotifyAt(deadline, std::weak_ptr<CommandStreams>(streams)), asio::detached);
  while (!complete() && !session->closed() && std::chrono::steady_clock::now() < deadline) {
    co_await streams->changed.Wait();
  }
  if (!complete()) {
    log::Debug({}, "spdy remote command: client did not open the expected streams in time");
    session->Abort();
    co_return;
  }
  RemoteCommandChannels channels;
  channels.error = streams->error.get();
  channels.stdin = want.stdin ? streams->stdin.get() : nullptr;
  channels.stdout = want.stdout ? streams->stdout.get() : nullptr;
  channels.stderr = want_stderr ? streams->stderr.get() : nullptr;
  channels.resize = want_resize ? streams->resize.get() : nullptr;
  co_await ServeRemoteCommand(std::move(command), channels, version, *ctx.runtime, ctx.lifeline,
                              ctx.drain_timeout);
  session->Close();
}

namespace {

struct PendingPair {
  std::shared_ptr<SpdyStream> data;
  std::shared_ptr<SpdyStream> error;
  uint16_t port = 0;
  uint64_t serial = 0;  // tells a reused request id from the pair a timer was started for
};
using PendingPairs = std::map<std::string, PendingPair>;

// kubelet gives a client stream_creation_timeout to open the second stream of a pair; then the
// half that came is reset, so a client cannot park streams forever.
awaitable<void> ExpirePair(std::weak_ptr<PendingPairs> pending, std::string request_id,
                           uint64_t serial, std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  auto pairs = pending.lock();
  if (!pairs) {
    co_return;
  }
  auto it = pairs->find(request_id);
  if (it == pairs->end() || it->second.serial != serial) {
    co_return;
  }
  for (auto* half : {&it->second.data, &it->second.error}) {
    if (*half) {
      (*half)->Reset();
    }
  }
  pairs->erase(it);
}

awaitable<void> ServePair(std::shared_ptr<SpdyStream> data, std::shared_ptr<SpdyStream> error,
                          std::string sandbox_id, uint16_t port, ServeContext ctx) {
  co_await ServePortForward(*data, *error, std::move(sandbox_id), port, *ctx.runtime, ctx.lifeline);
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

awaitable<void> ServeSpdyPortForward(std::shared_ptr<SpdySession> session, std::string sandbox_id,
                                     ServeContext ctx) {
  auto ex = co_await asio::this_coro::executor;
  auto pending = std::make_shared<PendingPairs>();
  auto serial = std::make_shared<uint64_t>(0);
  session->Start([pending, serial, ex, sandbox_id, ctx](std::shared_ptr<SpdyStream> stream) {
    std::string_view type = spdy::FindHeader(stream->headers(), "streamtype");
    auto port = ParsePort(spdy::FindHeader(stream->headers(), "port"));
    std::string request_id(spdy::FindHeader(stream->headers(), "requestid"));
    if (request_id.empty()) {
      // kubelet: clients older than requestID pair streams by id (error N, data N+2).
      request_id = std::to_string(type == "data" ? stream->id() - 2 : stream->id());
    }
    if ((type != "data" && type != "error") || !port) {
      stream->Reset();
      return;
    }
    PendingPair& pair = (*pending)[request_id];
    if (!pair.data && !pair.error) {
      pair.serial = ++*serial;
      asio::co_spawn(ex,
                     ExpirePair(std::weak_ptr<PendingPairs>(pending), request_id, pair.serial,
                                ctx.stream_creation_timeout),
                     asio::detached);
    }
    auto& slot = type == "data" ? pair.data : pair.error;
    if (slot || (pair.port != 0 && pair.port != *port)) {
      stream->Reset();
      return;
    }
    pair.port = *port;
    stream->Reply();
    slot = std::move(stream);
    if (pair.data && pair.error) {
      asio::co_spawn(ex, ServePair(pair.data, pair.error, sandbox_id, pair.port, ctx),
                     asio::detached);
      pending->erase(request_id);
    }
  });
  co_await session->WaitClosed();
}

}  // namespace cricket::cri::streaming
