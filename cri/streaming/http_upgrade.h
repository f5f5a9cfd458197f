#pragma once

// Internal to StreamingServer: reads the one HTTP/1.1 request of a new connection, redeems its
// token, negotiates the protocol and upgrades to SPDY/3.1 or WebSocket, then serves the session.
// Errors are HTTP responses: 404 for an unknown, used or expired token, 400 for a request that
// is not an upgrade, 403 when no protocol version is shared (with X-Accepted-Stream-Protocol-
// Versions, as kubelet answers).

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cri/streaming/serve_sessions.h"
#include "cri/streaming/streaming_server_options.h"
#include "cri/streaming/token_cache.h"

namespace cricket::cri::streaming {

awaitable<void> ServeConnection(asio::ip::tcp::socket socket, ServeContext ctx, TokenCache& tokens,
                                const StreamingServerOptions& options);

// The first of `client` (in the client's order of preference) that `server` supports, or "".
std::string NegotiateProtocol(const std::vector<std::string>& client,
                              const std::vector<std::string>& server);

// Splits comma-separated header values and trims blanks.
std::vector<std::string> SplitHeaderList(std::string_view value);

}  // namespace cricket::cri::streaming
