#include "cri/streaming/http_upgrade.h"

#include <algorithm>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>

#include "common/log.h"

namespace cricket::cri::streaming {

namespace http = beast::http;
namespace websocket = beast::websocket;

namespace {

// k8s.io/apimachinery/pkg/util/remotecommand and httpstream header names and protocols.
constexpr const char* kProtocolHeader = "X-Stream-Protocol-Version";
constexpr const char* kAcceptedHeader = "X-Accepted-Stream-Protocol-Versions";

// Boost 1.74's Beast speaks boost::string_view.
std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }
const std::vector<std::string> kSpdyCommandProtocols = {"v5.channel.k8s.io", "v4.channel.k8s.io",
                                                        "v3.channel.k8s.io", "v2.channel.k8s.io",
                                                        "channel.k8s.io"};
const std::vector<std::string> kSpdyPortForwardProtocols = {"portforward.k8s.io"};
const std::vector<std::string> kWsCommandProtocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
const std::vector<std::string> kWsPortForwardProtocols = {"v4.channel.k8s.io", "channel.k8s.io"};

RemoteCommandVersion VersionOf(std::string_view protocol) {
  if (protocol == "v5.channel.k8s.io") {
    return RemoteCommandVersion::kV5;
  }
  if (protocol == "v4.channel.k8s.io") {
    return RemoteCommandVersion::kV4;
  }
  if (protocol == "v3.channel.k8s.io") {
    return RemoteCommandVersion::kV3;
  }
  if (protocol == "v2.channel.k8s.io") {
    return RemoteCommandVersion::kV2;
  }
  return RemoteCommandVersion::kV1;
}

using Request = http::request<http::string_body>;

// GCC 12 mis-destroys some temporaries created inside a co_await expression (a lambda turned
// into std::function, a temporary bound to a reference parameter): every argument passed to a
// coroutine in this library is a named object, never such a temporary.
awaitable<void> Respond(beast::tcp_stream& stream, const Request& req, http::status status,
                        std::string body, std::vector<std::string> accepted) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  for (const std::string& p : accepted) {
    res.insert(kAcceptedHeader, p);
  }
  res.keep_alive(false);
  res.body() = std::move(body) + "\n";
  res.prepare_payload();
  boost::system::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

std::vector<std::string> HeaderValues(const Request& req, const char* name) {
  std::vector<std::string> values;
  for (const auto& field : req) {
    if (beast::iequals(field.name_string(), name)) {
      for (std::string& v : SplitHeaderList(Std(field.value()))) {
        values.push_back(std::move(v));
      }
    }
  }
  return values;
}

// The "port" query parameters of a WebSocket port-forward URL.
Result<std::vector<uint16_t>> QueryPorts(std::string_view query) {
  std::vector<uint16_t> ports;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.substr(0, 5) != "port=") {
      continue;
    }
    std::string_view text = pair.substr(5);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
      return Error(Code::kInvalidArgument, "invalid port " + std::string(text));
    }
    ports.push_back(static_cast<uint16_t>(value));
  }
  if (ports.empty()) {
    return Error(Code::kInvalidArgument, "query parameter port is required");
  }
  // Two channels per port, and a channel number is one byte (255 is the v5 close signal).
  if (ports.size() > 127) {
    return Error(Code::kInvalidArgument, "at most 127 ports per connection");
  }
  return ports;
}

struct Route {
  std::string kind;  // exec, attach, portforward
  std::string token;
  std::string query;
};

std::optional<Route> ParseTarget(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = path.size() < target.size() ? target.substr(path.size() + 1) : "";
  if (path.empty() || path[0] != '/') {
    return std::nullopt;
  }
  path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos || path.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Route{std::string(path.substr(0, slash)), std::string(path.substr(slash + 1)),
               std::string(query)};
}

bool KindMatches(const std::string& kind, const StreamingRequest& request) {
  return (kind == "exec" && std::holds_alternative<ExecRequest>(request)) ||
         (kind == "attach" && std::holds_alternative<AttachRequest>(request)) ||
         (kind == "portforward" && std::holds_alternative<PortForwardRequest>(request));
}

// The command, wanted streams and, for port-forward, the sandbox of a redeemed request.
struct Plan {
  bool port_forward = false;
  RemoteCommand command;
  WantedStreams want;
  std::string sandbox_id;
};

Plan PlanFor(const StreamingRequest& request) {
  Plan plan;
  if (const auto* exec = std::get_if<ExecRequest>(&request)) {
    plan.command = RemoteCommand{false, exec->container_id, exec->cmd, exec->tty};
    plan.want = WantedStreams{exec->stdin, exec->stdout, exec->stderr};
  } else if (const auto* attach = std::get_if<AttachRequest>(&request)) {
    plan.command = RemoteCommand{true, attach->container_id, {}, attach->tty};
    plan.want = WantedStreams{attach->stdin, attach->stdout, attach->stderr};
  } else {
    plan.port_forward = true;
    plan.sandbox_id = std::get<PortForwardRequest>(request).sandbox_id;
  }
  return plan;
}

awaitable<void> UpgradeSpdy(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                            const Request& req, Plan plan, ServeContext ctx) {
  const auto& supported = plan.port_forward ? kSpdyPortForwardProtocols : kSpdyCommandProtocols;
  auto offered = HeaderValues(req, kProtocolHeader);
  if (offered.empty()) {
    std::string body = "unable to upgrade: " + std::string(kProtocolHeader) + " is required";
    co_await Respond(stream, req, http::status::bad_request, std::move(body), {});
    co_return;
  }
  std::string protocol = NegotiateProtocol(offered, supported);
  if (protocol.empty()) {
    std::string body = "unable to upgrade: unable to negotiate protocol";
    co_await Respond(stream, req, http::status::forbidden, std::move(body), supported);
    co_return;
  }
  http::response<http::empty_body> res{http::status::switching_protocols, req.version()};
  res.set(http::field::connection, "Upgrade");
  res.set(http::field::upgrade, "SPDY/3.1");
  res.set(kProtocolHeader, protocol);
  boost::system::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return;
  }
  stream.expires_never();
  // Bytes the client sent right after its request already belong to SPDY.
  auto data = buffer.data();
  std::string early(asio::buffers_begin(data), asio::buffers_end(data));
  SpdyOptions options;
  options.server = true;
  options.idle_timeout = ctx.idle_timeout;
  auto session = SpdySession::Create(stream.release_socket(), options, std::move(early));
  if (plan.port_forward) {
    co_await ServeSpdyPortForward(session, plan.sandbox_id, ctx);
  } else {
    co_await ServeSpdyRemoteCommand(session, std::move(plan.command), plan.want,
                                    VersionOf(protocol), ctx);
  }
}

awaitable<void> UpgradeWebSocket(beast::tcp_stream& stream, const Request& req, const Route& route,
                                 Plan plan, ServeContext ctx) {
  const auto& supported = plan.port_forward ? kWsPortForwardProtocols : kWsCommandProtocols;
  std::string protocol = NegotiateProtocol(HeaderValues(req, "Sec-WebSocket-Protocol"), supported);
  if (protocol.empty()) {
    std::string body = "unable to upgrade: no supported Sec-WebSocket-Protocol";
    co_await Respond(stream, req, http::status::bad_request, std::move(body), {});
    co_return;
  }
  std::vector<uint16_t> ports;
  if (plan.port_forward) {
    auto parsed = QueryPorts(route.query);
    if (!parsed.ok()) {
      std::string body = parsed.error().message();
      co_await Respond(stream, req, http::status::bad_request, std::move(body), {});
      co_return;
    }
    ports = std::move(*parsed);
  }
  stream.expires_never();
  WebSocket ws(stream.release_socket());
  ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
    res.set(http::field::sec_websocket_protocol, protocol);
  }));
  boost::system::error_code ec;
  co_await ws.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return;
  }
  WsOptions options;
  options.idle_timeout = ctx.idle_timeout;
  if (plan.port_forward) {
    options.channels = 2 * ports.size();
    auto session = WsSession::Create(std::move(ws), options);
    co_await ServeWsPortForward(session, plan.sandbox_id, std::move(ports), ctx);
  } else {
    RemoteCommandVersion version = VersionOf(protocol);
    options.close_signal = version == RemoteCommandVersion::kV5;
    auto session = WsSession::Create(std::move(ws), options);
    co_await ServeWsRemoteCommand(session, std::move(plan.command), plan.want, version, ctx);
  }
}

}  // namespace

std::vector<std::string> SplitHeaderList(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    std::string_view item = value.substr(0, value.find(','));
    value.remove_prefix(std::min(value.size(), item.size() + 1));
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
  }
  return out;
}

std::string NegotiateProtocol(const std::vector<std::string>& client,
                              const std::vector<std::string>& server) {
  for (const std::string& c : client) {
    if (std::find(server.begin(), server.end(), c) != server.end()) {
      return c;
    }
  }
  return "";
}

awaitable<void> ServeConnection(asio::ip::tcp::socket socket, ServeContext ctx, TokenCache& tokens,
                                const StreamingServerOptions& options) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  parser.header_limit(64 * 1024);
  stream.expires_after(options.request_timeout);
  boost::system::error_code ec;
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return;  // malformed, too large or too slow: drop this connection only
  }
  Request req = parser.release();
  auto route = ParseTarget(Std(req.target()));
  if (!route ||
      (route->kind != "exec" && route->kind != "attach" && route->kind != "portforward")) {
    std::string body = "not found";
    co_await Respond(stream, req, http::status::not_found, std::move(body), {});
    co_return;
  }
  // A token is spent as soon as it is presented, as in kubelet: a failed upgrade needs a new one.
  auto request = tokens.Consume(route->token);
  if (!request || !KindMatches(route->kind, *request)) {
    std::string body = "not found";
    co_await Respond(stream, req, http::status::not_found, std::move(body), {});
    co_return;
  }
  Plan plan = PlanFor(*request);
  if (websocket::is_upgrade(req)) {
    co_await UpgradeWebSocket(stream, req, *route, std::move(plan), ctx);
  } else if (beast::iequals(req[http::field::upgrade], "SPDY/3.1")) {
    co_await UpgradeSpdy(stream, buffer, req, std::move(plan), ctx);
  } else {
    std::string body = "Upgrade request required";
    co_await Respond(stream, req, http::status::bad_request, std::move(body), {});
  }
}

}  // namespace cricket::cri::streaming
