#pragma once

// ByteChannel: one logical, ordered, bidirectional byte stream inside a multiplexed connection
// (a SPDY stream, or one channel of a Kubernetes WebSocket). The remote command and port-forward
// protocols are written against this, so they run over SPDY and WebSocket alike.
// Coroutine API; call only from the connection's executor.

#include <string>
#include <string_view>

#include "common/result.h"
#include "cri/streaming/async_util.h"

namespace cricket::cri::streaming {

class ByteChannel {
 public:
  virtual ~ByteChannel() = default;

  // The next chunk from the peer; an empty string once the peer closed its side (EOF).
  // kCancelled when the channel was reset or the connection closed.
  virtual awaitable<Result<std::string>> Read() = 0;

  // Sends all of `data`, suspending while flow control or a full write queue hold it back, so a
  // peer that never reads stops the caller instead of growing a buffer. kCancelled when the
  // channel or connection is gone.
  virtual awaitable<Result<void>> Write(std::string_view data) = 0;

  // Half-closes our direction (SPDY FIN). Idempotent.
  virtual void CloseWrite() = 0;

  // Aborts both directions (SPDY RST_STREAM CANCEL). Idempotent.
  virtual void Reset() = 0;

  // For a channel the protocol only writes to (stdout, stderr, error): bytes the peer sends on
  // it are dropped instead of queued, so a misbehaving peer cannot stall the connection.
  virtual void IgnoreInbound() = 0;
};

}  // namespace cricket::cri::streaming
