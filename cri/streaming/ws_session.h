#pragma once

// WsSession: the Kubernetes channel protocol over one WebSocket (v4.channel.k8s.io and
// v5.channel.k8s.io, binary). Every message is [channel byte][payload]; v5 adds the close
// signal [255][channel] that ends one channel's client-to-server direction (stdin EOF).
// Each channel is a ByteChannel. There is no per-channel flow control in this protocol, so
// backpressure is per connection: a channel with too much unread data pauses reading the socket,
// and writers wait while the write queue is full.
//
// The write queue, idle timeout and linger after close are SessionLoops' (shared with
// SpdySession).
//
// Threading: single executor. Lifetime: shared_ptr kept alive by its loops until closed.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cri/streaming/byte_channel.h"
#include "cri/streaming/session_loops.h"

namespace cricket::cri::streaming {

namespace beast = boost::beast;
using WebSocket = beast::websocket::stream<asio::ip::tcp::socket>;

struct WsOptions {
  size_t channels = 5;
  bool close_signal = false;  // v5: [255][channel] ends that channel's inbound side
  size_t max_write_queue_bytes = 1 << 20;
  size_t max_channel_buffer_bytes = 1 << 20;
  std::chrono::milliseconds idle_timeout{std::chrono::hours(4)};
};

class WsSession;

class WsChannel : public ByteChannel {
 public:
  WsChannel(WsSession& session, uint8_t index);

  awaitable<Result<std::string>> Read() override;
  awaitable<Result<void>> Write(std::string_view data) override;
  // The protocol cannot half-close a server-to-client channel; this only stops our writes.
  void CloseWrite() override { local_closed_ = true; }
  void Reset() override;
  void IgnoreInbound() override { ignore_inbound_ = true; }

 private:
  friend class WsSession;
  WsSession& session_;
  uint8_t index_;
  std::deque<std::string> inbound_;
  size_t inbound_bytes_ = 0;
  bool remote_closed_ = false;
  bool local_closed_ = false;
  bool reset_ = false;
  bool ignore_inbound_ = false;
  AsyncEvent changed_;
};

class WsSession final : public std::enable_shared_from_this<WsSession>,
                        private SessionLoops::Transport {
 public:
  // `ws` has completed its handshake (either role).
  static std::shared_ptr<WsSession> Create(WebSocket ws, WsOptions options);

  void Start();
  WsChannel& channel(size_t i) { return *channels_[i]; }
  size_t channel_count() const { return channels_.size(); }

  // Flushes queued messages, sends a normal close and closes. Idempotent.
  void Close();
  void Abort() override;
  bool closed() const { return loops_.closed(); }
  awaitable<void> WaitClosed();

  // Client side of v5: tells the server that `channel` (stdin) is done.
  void SendCloseSignal(uint8_t channel);

 private:
  friend class WsChannel;
  WsSession(WebSocket ws, WsOptions options);

  awaitable<void> ReadLoop(std::shared_ptr<WsSession> self);
  // SessionLoops::Transport: one WebSocket message each; a close frame as goodbye.
  awaitable<boost::system::error_code> WriteBatch(const std::vector<std::string>& batch) override;
  awaitable<bool> SayGoodbye() override;
  void Dispatch(std::string message);
  bool ReadPaused() const;
  void QueueMessage(std::string message);

  WebSocket ws_;
  WsOptions options_;
  std::vector<std::unique_ptr<WsChannel>> channels_;
  AsyncEvent read_room_;  // a channel drained; the reader may go on
  SessionLoops loops_;
};

}  // namespace cricket::cri::streaming
