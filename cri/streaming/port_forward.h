#pragma once

// One forwarded connection of the port-forward protocol, independent of transport: connects to
// the port inside the sandbox's network namespace (through the StreamingRuntime) and moves bytes
// both ways between the data channel and that socket, as kubelet's portforward package does.

#include <cstdint>
#include <memory>
#include <string>

#include "cri/streaming/async_util.h"
#include "cri/streaming/byte_channel.h"
#include "cri/streaming/streaming_runtime.h"

namespace cricket::cri::streaming {

// Returns when both directions ended. A failure to connect is written to `error` as text
// (kubelet: "error forwarding port <p> to pod <id>: ..."); `error` is half-closed at the end.
// `data` and `error` must outlive the call.
awaitable<void> ServePortForward(ByteChannel& data, ByteChannel& error, std::string sandbox_id,
                                 uint16_t port, StreamingRuntime& runtime,
                                 std::shared_ptr<Lifeline> lifeline);

}  // namespace cricket::cri::streaming
