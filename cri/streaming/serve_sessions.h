#pragma once

// Internal to StreamingServer: serving one upgraded connection, per protocol and transport.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cri/streaming/async_util.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_session.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/ws_session.h"

namespace cricket::cri::streaming {

struct ServeContext {
  StreamingRuntime* runtime = nullptr;
  std::shared_ptr<Lifeline> lifeline;
  std::chrono::milliseconds idle_timeout{};
  std::chrono::milliseconds stream_creation_timeout{};
  std::chrono::milliseconds drain_timeout{};
};

// Which stdio streams the CRI request asked for.
struct WantedStreams {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

awaitable<void> ServeSpdyRemoteCommand(std::shared_ptr<SpdySession> session, RemoteCommand command,
                                       WantedStreams want, RemoteCommandVersion version,
                                       ServeContext ctx);
awaitable<void> ServeSpdyPortForward(std::shared_ptr<SpdySession> session, std::string sandbox_id,
                                     ServeContext ctx);
awaitable<void> ServeWsRemoteCommand(std::shared_ptr<WsSession> session, RemoteCommand command,
                                     WantedStreams want, RemoteCommandVersion version,
                                     ServeContext ctx);
awaitable<void> ServeWsPortForward(std::shared_ptr<WsSession> session, std::string sandbox_id,
                                   std::vector<uint16_t> ports, ServeContext ctx);

}  // namespace cricket::cri::streaming
