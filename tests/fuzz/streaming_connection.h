#pragma once

// Shared by the http_upgrade and websocket fuzz targets: serves one client connection through
// the streaming server's real connection handler (ServeConnection: HTTP request, token, upgrade
// to SPDY/3.1 or WebSocket, the session) over a socketpair, with a runtime whose exec reads
// stdin to EOF and answers "ok". The client's bytes are sent, then EOF; what the server writes
// is drained. Tokens are random, so "{exec}", "{attach}" and "{portforward}" in the bytes are
// replaced by live tokens for an exec, attach (tty) and port-forward request.
// Aborts when the connection is still being served 10 s after the client's EOF (a hang).

#include <string>

namespace cricket::fuzz {

void ServeOneConnection(std::string client_bytes);

}  // namespace cricket::fuzz
