#pragma once

// SessionLoops: the half of a multiplexed connection that does not depend on its protocol,
// shared by SpdySession and WsSession. It owns
//   - the connection's state: open, closing (flush what is queued, then end), closed;
//   - the write queue: messages go out whole and in the order queued, by one writer coroutine,
//     and writers wait on send_room() while more than their cap of bytes is queued;
//   - the idle timeout: a connection with no read or write for `idle_timeout` is aborted;
//   - the linger after a graceful close: once the queue is flushed and the protocol has said
//     goodbye (SPDY: FIN; WebSocket: close frame), reading goes on for kLinger so that closing
//     with unread bytes does not send a TCP RST that could destroy data the peer has yet to read.
// The protocol supplies the Transport: how a batch is written, how the goodbye is said, and
// Abort(), which must call MarkClosed() and release the socket.
//
// Threading: single executor, the socket's. Lifetime: a member of its session; the coroutines
// Start() spawns hold the session alive (keep_alive) until the connection is closed.

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cri/streaming/async_util.h"

namespace cricket::cri::streaming {

class SessionLoops {
 public:
  class Transport {
   public:
    // Writes `batch` in order, all of it. An error aborts the connection.
    virtual awaitable<boost::system::error_code> WriteBatch(
        const std::vector<std::string>& batch) = 0;
    // The queue is flushed after Close(): say goodbye. False: abort now instead of lingering.
    virtual awaitable<bool> SayGoodbye() = 0;
    // Closes the socket now (calls MarkClosed()). Idempotent.
    virtual void Abort() = 0;

   protected:
    ~Transport() = default;
  };

  struct Options {
    const char* protocol = "";  // for the log: "spdy", "websocket"
    std::chrono::milliseconds idle_timeout{std::chrono::hours(4)};
    size_t max_batch = 1;  // queued messages handed to one WriteBatch
  };

  SessionLoops(const asio::any_io_executor& ex, Transport& transport, Options options);

  // Spawns the write and idle loops; each holds `keep_alive` until it ends.
  void Start(const std::shared_ptr<void>& keep_alive);

  bool closing() const { return closing_; }
  bool closed() const { return closed_; }
  size_t queued_bytes() const { return queued_bytes_; }

  // Appends one message to the write queue.
  void Queue(std::string message);
  // Traffic seen: pushes the idle deadline back.
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }
  // Stops taking new work; the write loop flushes the queue, says goodbye and lingers.
  void BeginClose();
  // For Transport::Abort: false when already closed. Else marks the connection closed, ends
  // the idle wait or the linger, and wakes every writer and WaitClosed().
  bool MarkClosed();
  // Resumes once closed.
  awaitable<void> WaitClosed();

  // Notified when queue space frees up or the state changes; writers re-check their condition.
  AsyncEvent& send_room() { return send_room_; }

 private:
  awaitable<void> WriteLoop(std::shared_ptr<void> keep_alive);
  awaitable<void> IdleLoop(std::shared_ptr<void> keep_alive);

  Transport& transport_;
  Options options_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_activity_;
  AsyncEvent write_ready_;  // the writer has something to send, or the state changed
  AsyncEvent send_room_;
  AsyncEvent closed_event_;
  // The idle deadline while open, the linger while closing: one timer, so the linger's
  // expires_after also ends the idle loop's wait.
  asio::steady_timer timer_;
};

}  // namespace cricket::cri::streaming
