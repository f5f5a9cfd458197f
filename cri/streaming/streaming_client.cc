#include "cri/streaming/streaming_client.h"

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <memory>

#include <nlohmann/json.hpp>

#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_session.h"
#include "cri/streaming/ws_session.h"

namespace cricket::cri::streaming {

namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

struct Url {
  std::string host;
  uint16_t port = 0;
  std::string target;
};

Result<Url> ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return Error(Code::kInvalidArgument, "streaming url must start with http://: " + url);
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  if (slash == std::string::npos || colon == std::string::npos) {
    return Error(Code::kInvalidArgument, "streaming url needs host:port/path: " + url);
  }
  Url out;
  out.host = authority.substr(0, colon);
  if (!out.host.empty() && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::string_view port_text = std::string_view(authority).substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Error(Code::kInvalidArgument, "streaming url has an invalid port: " + url);
  }
  out.port = static_cast<uint16_t>(port);
  out.target = rest.substr(slash);
  return out;
}

Error HttpError(unsigned status) {
  Code code = status == 404   ? Code::kNotFound
              : status == 400 ? Code::kInvalidArgument
              : status == 403 ? Code::kPermissionDenied
                              : Code::kUnknown;
  return Error(code, "streaming server answered http " + std::to_string(status));
}

awaitable<Result<asio::ip::tcp::socket>> Connect(const Url& url) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(url.host, ec);
  if (ec) {
    co_return Error(Code::kInvalidArgument, "streaming url host must be an IP: " + url.host);
  }
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({address, url.port}, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return Error::FromErrno(ec.value(), "connect to streaming server");
  }
  co_return std::move(socket);
}

awaitable<Result<std::shared_ptr<SpdySession>>> ConnectSpdy(const Url& url,
                                                            const std::string& protocol) {
  auto socket = co_await Connect(url);
  if (!socket.ok()) {
    co_return socket.error();
  }
  http::request<http::empty_body> req{http::verb::post, url.target, 11};
  req.set(http::field::host, url.host + ":" + std::to_string(url.port));
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "SPDY/3.1");
  req.set("X-Stream-Protocol-Version", protocol);
  boost::system::error_code ec;
  co_await http::async_write(*socket, req, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  co_await http::async_read_header(*socket, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return Error(Code::kUnavailable, "read upgrade response: " + ec.message());
  }
  if (parser.get().result_int() != 101) {
    co_return HttpError(parser.get().result_int());
  }
  auto data = buffer.data();
  std::string early(asio::buffers_begin(data), asio::buffers_end(data));
  SpdyOptions options;
  options.server = false;
  auto session = SpdySession::Create(std::move(*socket), options, std::move(early));
  session->Start(nullptr);  // the server never opens streams in these protocols
  co_return session;
}

awaitable<Result<std::shared_ptr<WsSession>>> ConnectWs(const Url& url, const std::string& protocol,
                                                        WsOptions options) {
  auto socket = co_await Connect(url);
  if (!socket.ok()) {
    co_return socket.error();
  }
  WebSocket ws(std::move(*socket));
  ws.set_option(websocket::stream_base::decorator([protocol](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, protocol);
  }));
  websocket::response_type res;
  boost::system::error_code ec;
  std::string host = url.host + ":" + std::to_string(url.port);
  co_await ws.async_handshake(res, host, url.target, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      co_return HttpError(res.result_int());
    }
    co_return Error(Code::kUnavailable, "websocket handshake: " + ec.message());
  }
  auto session = WsSession::Create(std::move(ws), options);
  session->Start();
  co_return session;
}

awaitable<void> ReadAll(ByteChannel& channel, std::string& out) {
  for (;;) {
    auto chunk = co_await channel.Read();
    if (!chunk.ok() || chunk->empty()) {
      co_return;
    }
    out += *chunk;
  }
}

// Reads until `want` bytes arrived (the WebSocket protocol has no per-channel EOF).
awaitable<void> ReadExactly(ByteChannel& channel, std::string& out, size_t want) {
  while (out.size() < want) {
    auto chunk = co_await channel.Read();
    if (!chunk.ok() || chunk->empty()) {
      co_return;
    }
    out += *chunk;
  }
}

awaitable<void> WriteAndClose(ByteChannel& channel, std::string data) {
  if (!data.empty()) {
    (void)co_await channel.Write(data);
  }
  channel.CloseWrite();
}

awaitable<void> SendResizes(ByteChannel& channel, std::vector<TerminalSize> sizes) {
  for (const TerminalSize& s : sizes) {
    nlohmann::json j = {{"Width", s.width}, {"Height", s.height}};
    std::string message = j.dump() + "\n";
    (void)co_await channel.Write(message);
  }
}

template <typename T>
awaitable<void> StoreResult(awaitable<Result<T>> task, std::optional<Result<T>>* out) {
  out->emplace(co_await std::move(task));
}

// Runs `body` on a private io_context; `abort` is called if the timeout fires first.
template <typename T>
Result<T> RunWithTimeout(
    std::chrono::milliseconds timeout,
    std::function<awaitable<Result<T>>(std::function<void(std::function<void()>)>)> body) {
  asio::io_context io;
  std::optional<Result<T>> out;
  bool timed_out = false;
  std::function<void()> on_timeout;
  asio::steady_timer timer(io, timeout);
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      if (on_timeout) {
        on_timeout();
      }
    }
  });
  auto set_abort = [&on_timeout](std::function<void()> fn) { on_timeout = std::move(fn); };
  asio::co_spawn(io, StoreResult<T>(body(set_abort), &out), [&](std::exception_ptr) {
    timer.cancel();
    io.stop();
  });
  io.run();
  if (timed_out) {
    return Error(Code::kDeadlineExceeded, "streaming session timed out");
  }
  if (!out) {
    return Error(Code::kInternal, "streaming client ended without a result");
  }
  return std::move(*out);
}

awaitable<Result<RemoteCommandResult>> SpdyCommand(
    Url url, RemoteCommandOptions o, std::function<void(std::function<void()>)> set_abort) {
  auto session = co_await ConnectSpdy(url, o.protocol);
  if (!session.ok()) {
    co_return session.error();
  }
  set_abort([s = *session] { s->Abort(); });
  auto open = [&](const char* type) {
    spdy::HeaderBlock headers = {{"streamtype", type}};
    return (*session)->OpenStream(std::move(headers));
  };
  std::shared_ptr<SpdyStream> error, in, out, err, resize;
  auto opened = co_await open("error");
  if (!opened.ok()) {
    co_return opened.error();
  }
  error = *opened;
  struct Wanted {
    bool want;
    const char* type;
    std::shared_ptr<SpdyStream>* slot;
  };
  std::vector<Wanted> wanted = {{o.stdin, "stdin", &in},
                                {o.stdout, "stdout", &out},
                                {o.stderr && !o.tty, "stderr", &err},
                                {o.tty, "resize", &resize}};
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!wanted[i].want) {
      continue;
    }
    auto stream = co_await open(wanted[i].type);
    if (!stream.ok()) {
      co_return stream.error();
    }
    *wanted[i].slot = *stream;
  }
  RemoteCommandResult result;
  std::vector<awaitable<void>> tasks;
  if (in) {
    tasks.push_back(WriteAndClose(*in, o.stdin_data));
  }
  if (resize) {
    tasks.push_back(SendResizes(*resize, o.resizes));
  }
  if (out) {
    tasks.push_back(ReadAll(*out, result.stdout_data));
  }
  if (err) {
    tasks.push_back(ReadAll(*err, result.stderr_data));
  }
  tasks.push_back(ReadAll(*error, result.status));
  co_await JoinAll(std::move(tasks));
  (*session)->Abort();
  result.exit_code = ExitCodeFromStatus(result.status);
  co_return result;
}

awaitable<Result<RemoteCommandResult>> WsCommand(
    Url url, RemoteCommandOptions o, std::function<void(std::function<void()>)> set_abort) {
  WsOptions options;
  options.channels = 5;
  options.close_signal = o.protocol == "v5.channel.k8s.io";
  auto session = co_await ConnectWs(url, o.protocol, options);
  if (!session.ok()) {
    co_return session.error();
  }
  auto s = *session;
  set_abort([s] { s->Abort(); });
  RemoteCommandResult result;
  if (o.stdin) {
    (void)co_await s->channel(0).Write(o.stdin_data);
    if (options.close_signal) {
      s->SendCloseSignal(0);
    }
  }
  if (o.tty) {
    co_await SendResizes(s->channel(4), o.resizes);
  }
  std::vector<awaitable<void>> tasks;
  tasks.push_back(ReadAll(s->channel(1), result.stdout_data));
  tasks.push_back(ReadAll(s->channel(2), result.stderr_data));
  tasks.push_back(ReadAll(s->channel(3), result.status));
  co_await JoinAll(std::move(tasks));
  s->Abort();
  result.exit_code = ExitCodeFromStatus(result.status);
  co_return result;
}

awaitable<void> ForwardOne(std::shared_ptr<SpdySession> session, uint16_t port, size_t id,
                           std::string payload, std::string& out, std::string& error_text) {
  std::string p = std::to_string(port);
  std::string rid = std::to_string(id);
  // Header blocks built outside co_await: GCC 12 mishandles braced lists in its operand.
  spdy::HeaderBlock error_headers = {{"streamtype", "error"}, {"port", p}, {"requestid", rid}};
  spdy::HeaderBlock data_headers = {{"streamtype", "data"}, {"port", p}, {"requestid", rid}};
  auto error = co_await session->OpenStream(std::move(error_headers));
  auto data = co_await session->OpenStream(std::move(data_headers));
  if (!error.ok() || !data.ok()) {
    error_text = "stream refused";
    co_return;
  }
  std::vector<awaitable<void>> tasks;
  tasks.push_back(WriteAndClose(**data, std::move(payload)));
  tasks.push_back(ReadAll(**data, out));
  tasks.push_back(ReadAll(**error, error_text));
  co_await JoinAll(std::move(tasks));
}

awaitable<Result<std::vector<std::string>>> SpdyForward(
    Url url, PortForwardOptions o, std::vector<std::string> payloads,
    std::function<void(std::function<void()>)> set_abort) {
  std::string protocol = "portforward.k8s.io";
  auto session = co_await ConnectSpdy(url, protocol);
  if (!session.ok()) {
    co_return session.error();
  }
  set_abort([s = *session] { s->Abort(); });
  std::vector<std::string> outs(payloads.size());
  std::vector<std::string> errors(payloads.size());
  std::vector<awaitable<void>> tasks;
  for (size_t i = 0; i < payloads.size(); ++i) {
    tasks.push_back(ForwardOne(*session, o.port, i, std::move(payloads[i]), outs[i], errors[i]));
  }
  co_await JoinAll(std::move(tasks));
  (*session)->Abort();
  for (const std::string& e : errors) {
    if (!e.empty()) {
      co_return Error(Code::kUnavailable, e);
    }
  }
  co_return outs;
}

awaitable<Result<std::vector<std::string>>> WsForward(
    Url url, PortForwardOptions o, std::vector<std::string> payloads,
    std::function<void(std::function<void()>)> set_abort) {
  if (payloads.size() != 1) {
    co_return Error(Code::kInvalidArgument, "websocket port-forward carries one connection");
  }
  url.target +=
      (url.target.find('?') == std::string::npos ? "?port=" : "&port=") + std::to_string(o.port);
  WsOptions options;
  options.channels = 2;
  std::string protocol = "v4.channel.k8s.io";
  auto session = co_await ConnectWs(url, protocol, options);
  if (!session.ok()) {
    co_return session.error();
  }
  auto s = *session;
  set_abort([s] { s->Abort(); });
  size_t want = payloads[0].size() + 2;  // each channel starts with the port, 2 bytes
  std::string out;
  std::vector<awaitable<void>> tasks;
  tasks.push_back(WriteAndClose(s->channel(0), std::move(payloads[0])));
  tasks.push_back(ReadExactly(s->channel(0), out, want));
  co_await JoinAll(std::move(tasks));
  std::string error_text;
  if (out.size() < want) {
    // Short: the connection failed; the error channel says why.
    co_await ReadAll(s->channel(1), error_text);
  }
  s->Abort();
  if (out.size() < want) {
    co_return Error(Code::kUnavailable,
                    error_text.size() > 2 ? error_text.substr(2) : "short read");
  }
  co_return std::vector<std::string>{out.substr(2)};
}

}  // namespace

Result<std::vector<std::string>> RunPortForward(const std::string& url,
                                                const PortForwardOptions& options,
                                                const std::vector<std::string>& payloads) {
  CR_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  return RunWithTimeout<std::vector<std::string>>(
      options.timeout, [&](std::function<void(std::function<void()>)> set_abort) {
        return options.transport == Transport::kSpdy
                   ? SpdyForward(parsed, options, payloads, set_abort)
                   : WsForward(parsed, options, payloads, set_abort);
      });
}

Result<RemoteCommandResult> RunRemoteCommand(const std::string& url,
                                             const RemoteCommandOptions& options) {
  CR_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  return RunWithTimeout<RemoteCommandResult>(
      options.timeout, [&](std::function<void(std::function<void()>)> set_abort) {
        return options.transport == Transport::kSpdy ? SpdyCommand(parsed, options, set_abort)
                                                     : WsCommand(parsed, options, set_abort);
      });
}

std::optional<int> ExitCodeFromStatus(const std::string& status_json) {
  auto j = nlohmann::json::parse(status_json, nullptr, /*allow_exceptions=*/false);
  // Typed lookups only: json::value() throws when a key holds another type.
  auto text = [](const nlohmann::json& obj, const char* key) -> std::string {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  if (text(j, "status") == "Success") {
    return 0;
  }
  auto details = j.find("details");
  if (text(j, "reason") != "NonZeroExitCode" || details == j.end() || !details->is_object()) {
    return std::nullopt;
  }
  auto causes = details->find("causes");
  if (causes == details->end() || !causes->is_array()) {
    return std::nullopt;
  }
  for (const auto& cause : *causes) {
    if (cause.is_object() && text(cause, "reason") == "ExitCode") {
      std::string message = text(cause, "message");
      int code = 0;
      auto [end, ec] = std::from_chars(message.data(), message.data() + message.size(), code);
      if (ec == std::errc() && end == message.data() + message.size()) {
        return code;
      }
    }
  }
  return std::nullopt;
}

}  // namespace cricket::cri::streaming
