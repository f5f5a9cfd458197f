#pragma once

// StreamingServer: the HTTP/1.1 endpoint the CRI Exec, Attach and PortForward RPCs point
// kubelet at. GetExec/GetAttach/GetPortForward validate a request and mint a single-use URL
// (/exec/<token>, /attach/<token>, /portforward/<token>); a client then upgrades that URL to
// SPDY/3.1 (X-Stream-Protocol-Version negotiation) or WebSocket (Sec-WebSocket-Protocol) and the
// server runs the session through the StreamingRuntime. An unknown, used or expired token gets
// 404; a malformed request or frame closes that connection only.
//
// Threading: Get* are thread-safe. All network I/O runs on one internal thread; runtime calls
// each get a thread of their own. The runtime must outlive the server.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "cri/streaming/requests.h"
#include "cri/streaming/streaming_runtime.h"

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

class StreamingServer {
 public:
  // Binds and starts serving. kInvalidArgument for a bad address or max_connections < 1;
  // kAlreadyExists or kPermissionDenied when the port cannot be bound.
  static Result<std::unique_ptr<StreamingServer>> Start(StreamingServerOptions options,
                                                        StreamingRuntime& runtime);
  // Stops accepting, closes every connection and stops the I/O thread.
  ~StreamingServer();

  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;

  // "http://127.0.0.1:34567".
  std::string base_url() const;
  uint16_t port() const;

  // CRI validation, then a fresh URL. kInvalidArgument: no container/sandbox id, empty cmd, no
  // stream requested, or tty together with stderr (kubelet refuses it too).
  // kResourceExhausted: too many outstanding tokens.
  Result<std::string> GetExec(const ExecRequest& request);
  Result<std::string> GetAttach(const AttachRequest& request);
  Result<std::string> GetPortForward(const PortForwardRequest& request);

  class Impl;

 private:
  explicit StreamingServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cricket::cri::streaming
