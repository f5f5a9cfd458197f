#pragma once

// A small client for the streaming server's protocols, used by the integration tests and the
// benchmark (and usable by a future cricketctl): remote command and port-forward over SPDY/3.1
// or WebSocket, against a URL returned by StreamingServer. Each call is blocking and runs its
// own event loop; it shares the SPDY codec and sessions with the server.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "cri/streaming/streaming_runtime.h"

namespace cricket::cri::streaming {

enum class Transport { kSpdy, kWebSocket };

struct RemoteCommandOptions {
  Transport transport = Transport::kSpdy;
  // Offered protocol: X-Stream-Protocol-Version (SPDY) or Sec-WebSocket-Protocol.
  std::string protocol = "v4.channel.k8s.io";
  bool stdin = false;
  bool stdout = true;
  bool stderr = false;
  bool tty = false;
  std::string stdin_data;  // written, then stdin is closed (FIN, or the v5 close signal)
  std::vector<TerminalSize> resizes;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct RemoteCommandResult {
  std::string stdout_data;
  std::string stderr_data;
  std::string status;  // the raw error stream
  // From a v4 Status: 0 for Success, the ExitCode cause for NonZeroExitCode; empty otherwise.
  std::optional<int> exit_code;
};

// Runs the session to its end. An HTTP refusal is an error whose Code follows the status
// (404 kNotFound, 400 kInvalidArgument, 403 kPermissionDenied); kDeadlineExceeded on timeout.
Result<RemoteCommandResult> RunRemoteCommand(const std::string& url,
                                             const RemoteCommandOptions& options);

struct PortForwardOptions {
  Transport transport = Transport::kSpdy;
  uint16_t port = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Over one connection, forwards one connection per payload at once (SPDY: one stream pair per
// payload; WebSocket: exactly one payload). Each payload is sent, the send side half-closed, and
// everything the remote end sends back until it closes (SPDY) or until as many bytes as were
// sent arrived (WebSocket, which cannot signal EOF) is returned, in payload order. A connect
// failure the server reports on the error stream is kUnavailable with its text.
Result<std::vector<std::string>> RunPortForward(const std::string& url,
                                                const PortForwardOptions& options,
                                                const std::vector<std::string>& payloads);

// Parses a metav1.Status from the error stream: 0 for Success, the ExitCode cause otherwise.
std::optional<int> ExitCodeFromStatus(const std::string& status_json);

}  // namespace cricket::cri::streaming
