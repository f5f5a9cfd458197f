#pragma once

// The settings of a StreamingServer (streaming_server.h), shared with the connection code that
// applies them (http_upgrade.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace cricket::cri::streaming {

struct StreamingServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port
  std::chrono::milliseconds token_ttl{std::chrono::minutes(1)};
  // kubelet's streamIdleTimeout default: a connection with no traffic for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::hours(4)};
  // How long the client has to open all streams it announced (kubelet: 30 s).
  std::chrono::milliseconds stream_creation_timeout{std::chrono::seconds(30)};
  // How long to wait for output after the process exited (a background child may hold it).
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(2)};
  // How long a new connection may take to send its HTTP request.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  size_t max_tokens = 1000;
  // Connections served at once (from accept until closed, the HTTP request phase included). A
  // connection over the cap is answered 503 and closed at once, never queued; the first refusal
  // of a burst is logged at warn.
  int max_connections = 128;
};

}  // namespace cricket::cri::streaming
