#pragma once

// MetricsServer: the HTTP/1.x endpoint Prometheus scrapes. `GET /metrics` (a query string is
// ignored) answers 200 with what `render` returns, in the text format's content type; another
// path 404, another method 405, a malformed or oversized request 400. One response per
// connection (`Connection: close`).
//
// Threading: one thread of its own runs a poll loop over the listening socket and the open
// connections (at most kMaxConnections; more are closed at once), so a slow client never holds
// up another nor any gRPC thread. `render` runs on that thread. A connection that has not sent
// its request within 5 s, or not taken its response within 10 s, is closed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"
#include "cri/prometheus_config.h"

namespace cricket::cri::prometheus {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  static constexpr int kMaxConnections = 16;

  // Binds `address` (a unix socket: a stale socket file at the path is replaced, the new one is
  // mode 0660) and starts the thread. kInvalidArgument for a bad host; kFailedPrecondition when
  // the unix path exists and is not a socket; Error::FromErrno of socket/bind/listen otherwise
  // (the message names the address).
  static Result<std::unique_ptr<MetricsServer>> Start(const MetricsAddress& address, Render render);
  // Stops the thread, closes every connection and removes the unix socket file.
  ~MetricsServer();

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "127.0.0.1:9377" (the bound port when 0 was asked) or "unix:///path".
  std::string address() const { return bound_; }
  uint16_t port() const { return port_; }

 private:
  MetricsServer(UniqueFd listener, UniqueFd wake, std::string unix_path, Render render);
  void Run();

  UniqueFd listener_;
  UniqueFd wake_;  // an eventfd: written by the destructor to end Run()
  std::string unix_path_;
  std::string bound_;
  uint16_t port_ = 0;
  Render render_;
  std::thread thread_;
};

}  // namespace cricket::cri::prometheus
