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

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "cri/streaming/requests.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/streaming_server_options.h"

namespace cricket::cri::streaming {

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
  // Connections being served now (for cricketd's metrics). Thread-safe.
  int active_connections() const;

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
