#pragma once

// The remote command protocol (exec and attach) independent of transport: given the channels a
// client opened (SPDY streams or WebSocket channels), runs the command through the
// StreamingRuntime and moves stdio, resizes and the final status, as kubelet's
// cri/streaming/remotecommand does.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cri/streaming/async_util.h"
#include "cri/streaming/byte_channel.h"
#include "cri/streaming/streaming_runtime.h"

namespace cricket::cri::streaming {

// Negotiated protocol versions (X-Stream-Protocol-Version / Sec-WebSocket-Protocol).
enum class RemoteCommandVersion { kV1, kV2, kV3, kV4, kV5 };

// Null where the client did not ask for the stream.
struct RemoteCommandChannels {
  ByteChannel* stdin = nullptr;
  ByteChannel* stdout = nullptr;
  ByteChannel* stderr = nullptr;
  ByteChannel* error = nullptr;
  ByteChannel* resize = nullptr;
};

struct RemoteCommand {
  bool attach = false;  // attach to the main process instead of exec'ing `cmd`
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
};

// Runs the command to completion and writes the status to the error channel (JSON Status for
// v4+, text for older versions). Returns when the status is written; the caller closes the
// connection. `drain_timeout` bounds the wait for output after the process exited, in case a
// background child keeps the pipes open.
awaitable<void> ServeRemoteCommand(RemoteCommand command, RemoteCommandChannels channels,
                                   RemoteCommandVersion version, StreamingRuntime& runtime,
                                   std::shared_ptr<Lifeline> lifeline,
                                   std::chrono::milliseconds drain_timeout);

// Runs every awaitable concurrently on the current executor and resumes when all finished.
awaitable<void> JoinAll(std::vector<awaitable<void>> tasks);

}  // namespace cricket::cri::streaming
