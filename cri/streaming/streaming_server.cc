#include "cri/streaming/streaming_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/log.h"
#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/serve_sessions.h"
#include "cri/streaming/token_cache.h"

namespace cricket::cri::streaming {

class StreamingServer::Impl {
 public:
  Impl(StreamingServerOptions options, StreamingRuntime& runtime)
      : options_(std::move(options)),
        runtime_(runtime),
        acceptor_(io_),
        tokens_(options_.token_ttl, options_.max_tokens),
        lifeline_(std::make_shared<Lifeline>(io_.get_executor())) {}

  Result<void> Listen() {
    if (options_.max_connections < 1) {
      return Error(Code::kInvalidArgument, "streaming server max_connections must be positive");
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.address, ec);
    if (ec) {
      return Error(Code::kInvalidArgument, "streaming server address " + options_.address);
    }
    asio::ip::tcp::endpoint endpoint(address, options_.port);
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return Error::FromErrno(ec.value(), "open streaming server socket");
    }
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) {
      return Error::FromErrno(ec.value(), "bind streaming server to " + options_.address + ":" +
                                              std::to_string(options_.port));
    }
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return Error::FromErrno(ec.value(), "listen on streaming server socket");
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, AcceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    return Ok();
  }

  ~Impl() {
    lifeline_->Cut();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  std::string base_url() const {
    std::string host = options_.address.find(':') != std::string::npos
                           ? "[" + options_.address + "]"
                           : options_.address;
    return "http://" + host + ":" + std::to_string(port_);
  }
  uint16_t port() const { return port_; }
  int active_connections() const { return active_.load(std::memory_order_relaxed); }

  Result<std::string> Mint(const char* kind, StreamingRequest request) {
    CR_ASSIGN_OR_RETURN(std::string token, tokens_.Insert(std::move(request)));
    return base_url() + "/" + kind + "/" + token;
  }

 private:
  awaitable<void> AcceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      asio::ip::tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        log::Warn({}, "streaming server accept failed: {}", ec.message());
        co_await SleepFor(std::chrono::milliseconds(100));  // EMFILE and friends: do not spin
        continue;
      }
      // Asio does not open sockets with CLOEXEC; a process the runtime forks must not inherit
      // the connection (it would keep it open after we close it).
      ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      if (active_ >= options_.max_connections) {
        Refuse(socket);
        continue;
      }
      if (refused_in_burst_ > 0) {
        log::Info({}, "streaming server accepts connections again after refusing {}",
                  refused_in_burst_);
        refused_in_burst_ = 0;
      }
      ++active_;
      // The completion handler runs on the I/O thread when the connection is done; it is dropped
      // unrun when the server stops, when active_ no longer matters.
      asio::co_spawn(io_, ServeConnection(std::move(socket), Context(), tokens_, options_),
                     [this](const std::exception_ptr&) { --active_; });
    }
  }

  // Over the cap: a best-effort 503 (never blocking the I/O thread) and close. Queuing would let
  // idle connections pin memory and fds without bound.
  void Refuse(asio::ip::tcp::socket& socket) {
    if (refused_in_burst_++ == 0) {
      log::Warn({}, "streaming server refuses connections: {} served, the limit is {}",
                active_.load(), options_.max_connections);
    }
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::send(socket.native_handle(), kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  ServeContext Context() {
    return ServeContext{&runtime_, lifeline_, options_.idle_timeout,
                        options_.stream_creation_timeout, options_.drain_timeout};
  }

  StreamingServerOptions options_;
  StreamingRuntime& runtime_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  TokenCache tokens_;
  std::shared_ptr<Lifeline> lifeline_;
  uint16_t port_ = 0;
  // Only the I/O thread changes these two; active_ is read by metrics scrapes too.
  std::atomic<int> active_ = 0;   // connections being served
  int64_t refused_in_burst_ = 0;  // refusals since the last accepted connection
  std::thread thread_;
};

Result<std::unique_ptr<StreamingServer>> StreamingServer::Start(StreamingServerOptions options,
                                                                StreamingRuntime& runtime) {
  // Writing to a pipe whose process has exited must fail with EPIPE, not kill cricketd.
  ::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>(std::move(options), runtime);
  CR_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<StreamingServer>(new StreamingServer(std::move(impl)));
}

StreamingServer::StreamingServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamingServer::~StreamingServer() = default;

std::string StreamingServer::base_url() const { return impl_->base_url(); }
uint16_t StreamingServer::port() const { return impl_->port(); }
int StreamingServer::active_connections() const { return impl_->active_connections(); }

namespace {

Result<void> ValidateStdio(bool tty, bool in, bool out, bool err) {
  if (!in && !out && !err) {
    return Error(Code::kInvalidArgument, "one of stdin, stdout or stderr must be set");
  }
  if (tty && err) {
    return Error(Code::kInvalidArgument, "tty and stderr cannot both be true");
  }
  return Ok();
}

}  // namespace

Result<std::string> StreamingServer::GetExec(const ExecRequest& request) {
  if (request.container_id.empty()) {
    return Error(Code::kInvalidArgument, "container_id is required");
  }
  if (request.cmd.empty()) {
    return Error(Code::kInvalidArgument, "cmd is required");
  }
  CR_RETURN_IF_ERROR(ValidateStdio(request.tty, request.stdin, request.stdout, request.stderr));
  return impl_->Mint("exec", request);
}

Result<std::string> StreamingServer::GetAttach(const AttachRequest& request) {
  if (request.container_id.empty()) {
    return Error(Code::kInvalidArgument, "container_id is required");
  }
  CR_RETURN_IF_ERROR(ValidateStdio(request.tty, request.stdin, request.stdout, request.stderr));
  return impl_->Mint("attach", request);
}

Result<std::string> StreamingServer::GetPortForward(const PortForwardRequest& request) {
  if (request.sandbox_id.empty()) {
    return Error(Code::kInvalidArgument, "pod_sandbox_id is required");
  }
  return impl_->Mint("portforward", request);
}

}  // namespace cricket::cri::streaming
