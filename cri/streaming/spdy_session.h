#pragma once

// SpdySession: one SPDY/3.1 connection over a TCP socket, as server or client. It owns the
// socket, reads and dispatches frames, answers PINGs, keeps per-stream and connection flow
// control windows, and hands each peer-opened stream to a callback.
//
// Flow control: we advertise `receive_window_bytes` per stream and per connection and send
// WINDOW_UPDATE only as the reader consumes data. Towards the peer we keep its windows too, but
// block on them only once the peer shows it does flow control (it sent WINDOW_UPDATE or
// SETTINGS): Go's spdystream, which kubelet clients use, never sends WINDOW_UPDATE and would
// otherwise stall after 64 KiB. Without it, TCP backpressure plus our bounded write queue bound
// memory, and a stream whose reader lags pauses reading the socket.
//
// The write queue, idle timeout and linger after close are SessionLoops' (shared with WsSession).
//
// Threading: single executor. Create, call and destroy only on the socket's executor.
// Lifetime: shared_ptr; the coroutines it spawns keep it alive until the socket closes.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cri/streaming/byte_channel.h"
#include "cri/streaming/session_loops.h"
#include "cri/streaming/spdy_frame.h"

namespace cricket::cri::streaming {

struct SpdyOptions {
  bool server = true;
  int32_t receive_window_bytes = 1 << 20;
  uint32_t max_frame_bytes = 1 << 20;
  size_t max_write_queue_bytes = 1 << 20;
  // Without peer flow control, a stream's unread data pauses the socket past this many bytes.
  size_t max_stream_buffer_bytes = 1 << 20;
  // Streams open at once; the peer's SYN_STREAMs beyond it are refused (REFUSED_STREAM).
  size_t max_streams = 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::hours(4)};
};

class SpdySession;

class SpdyStream : public ByteChannel {
 public:
  SpdyStream(std::shared_ptr<SpdySession> session, uint32_t id, spdy::HeaderBlock headers,
             int32_t send_window);

  uint32_t id() const { return id_; }
  const spdy::HeaderBlock& headers() const { return headers_; }

  // Accepts a peer-opened stream (SYN_REPLY with :status 200).
  void Reply();

  awaitable<Result<std::string>> Read() override;
  awaitable<Result<void>> Write(std::string_view data) override;
  void CloseWrite() override;
  void Reset() override;
  void IgnoreInbound() override { ignore_inbound_ = true; }

 private:
  friend class SpdySession;

  bool finished() const { return reset_ || (local_fin_ && remote_fin_); }

  // Weak: the session owns its streams, and a strong pointer back would leak both whenever the
  // session is torn down without Abort() (its io_context destroyed mid-session).
  std::weak_ptr<SpdySession> session_;
  uint32_t id_;
  spdy::HeaderBlock headers_;
  std::deque<std::string> inbound_;
  size_t inbound_bytes_ = 0;
  int64_t unacked_bytes_ = 0;  // consumed but not yet returned with WINDOW_UPDATE
  int64_t send_window_;
  bool replied_ = false;
  bool remote_fin_ = false;
  bool local_fin_ = false;
  bool reset_ = false;
  bool ignore_inbound_ = false;
  AsyncEvent changed_;
};

class SpdySession final : public std::enable_shared_from_this<SpdySession>,
                          private SessionLoops::Transport {
 public:
  using StreamHandler = std::function<void(std::shared_ptr<SpdyStream>)>;

  // `initial_bytes`: bytes read past the HTTP upgrade that already belong to SPDY.
  static std::shared_ptr<SpdySession> Create(asio::ip::tcp::socket socket, SpdyOptions options,
                                             std::string initial_bytes = {});

  // Starts reading. `on_stream` gets every stream the peer opens; it must Reply() or Reset().
  void Start(StreamHandler on_stream);

  // Client side: opens a stream and waits for SYN_REPLY. kCancelled if reset or closed.
  awaitable<Result<std::shared_ptr<SpdyStream>>> OpenStream(spdy::HeaderBlock headers);

  // Sends GOAWAY, flushes what is queued, then closes the socket. Idempotent.
  void Close();
  // Closes the socket now; every stream is reset. Idempotent.
  void Abort() override;

  bool closed() const { return loops_.closed(); }
  // Resumes once the socket is closed.
  awaitable<void> WaitClosed();

 private:
  friend class SpdyStream;

  SpdySession(asio::ip::tcp::socket socket, SpdyOptions options, std::string initial_bytes);

  // Holds `self` so the session lives while its socket is open (as SessionLoops' loops do).
  awaitable<void> ReadLoop(std::shared_ptr<SpdySession> self);
  // SessionLoops::Transport: one gathered write per batch; FIN as goodbye.
  awaitable<boost::system::error_code> WriteBatch(const std::vector<std::string>& batch) override;
  awaitable<bool> SayGoodbye() override;
  bool ReadPaused() const;
  Result<void> HandleFrame(spdy::Frame frame);
  Result<void> HandleData(spdy::DataFrame& frame);
  Result<void> HandleSynStream(spdy::SynStreamFrame& frame);
  void HandleSettings(const spdy::SettingsFrame& frame);
  void HandleWindowUpdate(const spdy::WindowUpdateFrame& frame);
  void ProtocolError(const std::string& why);

  // Queues one serialized control frame.
  void QueueFrame(const spdy::Frame& frame);
  void QueueBytes(std::string bytes);
  void Consumed(SpdyStream& stream, size_t bytes);
  void Forget(SpdyStream& stream);
  // True while a stream's writer must wait for window or queue room.
  bool MustWaitToSend(const SpdyStream& stream) const;

  asio::ip::tcp::socket socket_;
  SpdyOptions options_;
  spdy::FrameParser parser_;
  spdy::FrameWriter writer_;
  StreamHandler on_stream_;
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_;
  uint32_t last_peer_stream_id_ = 0;
  uint32_t next_stream_id_;
  int64_t conn_send_window_ = spdy::kDefaultInitialWindow;
  int32_t peer_initial_window_ = spdy::kDefaultInitialWindow;
  int64_t conn_unacked_bytes_ = 0;
  bool peer_flow_control_ = false;
  bool abort_after_flush_ = false;                 // a protocol error: no linger after the GOAWAY
  std::vector<asio::const_buffer> write_buffers_;  // WriteBatch's, reused
  AsyncEvent read_room_;                           // a stream drained; the reader may go on
  // Closing means GOAWAY queued: no new streams or data. Its send_room() is also notified when
  // a window opens; stream writers re-check.
  SessionLoops loops_;
};

}  // namespace cricket::cri::streaming
