#include "cri/streaming/session_loops.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/log.h"

namespace cricket::cri::streaming {

namespace {

// How long a closing connection keeps reading (and dropping) after its goodbye, so that closing
// with unread bytes does not send a TCP RST that could destroy data the peer has yet to read.
constexpr auto kLinger = std::chrono::seconds(5);

}  // namespace

SessionLoops::SessionLoops(const asio::any_io_executor& ex, Transport& transport, Options options)
    : transport_(transport),
      options_(options),
      last_activity_(std::chrono::steady_clock::now()),
      write_ready_(ex),
      send_room_(ex),
      closed_event_(ex),
      timer_(ex) {}

void SessionLoops::Start(const std::shared_ptr<void>& keep_alive) {
  auto ex = timer_.get_executor();
  asio::co_spawn(ex, WriteLoop(keep_alive), asio::detached);
  asio::co_spawn(ex, IdleLoop(keep_alive), asio::detached);
}

void SessionLoops::Queue(std::string message) {
  queued_bytes_ += message.size();
  queue_.push_back(std::move(message));
  write_ready_.Notify();
}

void SessionLoops::BeginClose() {
  closing_ = true;
  write_ready_.Notify();
  send_room_.Notify();
}

bool SessionLoops::MarkClosed() {
  if (closed_) {
    return false;
  }
  closed_ = true;
  timer_.cancel();
  write_ready_.Notify();
  send_room_.Notify();
  closed_event_.Notify();
  return true;
}

awaitable<void> SessionLoops::WaitClosed() {
  while (!closed_) {
    co_await closed_event_.Wait();
  }
}

awaitable<void> SessionLoops::WriteLoop(std::shared_ptr<void> /*keep_alive*/) {
  std::vector<std::string> batch;
  while (!closed_) {
    if (queue_.empty()) {
      if (closing_) {
        break;
      }
      co_await write_ready_.Wait();
      continue;
    }
    size_t bytes = 0;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      bytes += queue_.front().size();
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    boost::system::error_code ec = co_await transport_.WriteBatch(batch);
    batch.clear();
    // Counted until written: the bytes in flight still hold writers back.
    queued_bytes_ -= bytes;
    if (ec) {
      transport_.Abort();
      co_return;
    }
    Touch();
    send_room_.Notify();
  }
  if (closed_) {
    co_return;
  }
  // Closing and flushed: say goodbye, then linger reading until the peer closes too.
  bool linger = co_await transport_.SayGoodbye();
  if (!linger || closed_) {
    transport_.Abort();
    co_return;
  }
  timer_.expires_after(kLinger);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  transport_.Abort();
}

awaitable<void> SessionLoops::IdleLoop(std::shared_ptr<void> /*keep_alive*/) {
  while (!closed_ && !closing_) {
    auto deadline = last_activity_ + options_.idle_timeout;
    if (std::chrono::steady_clock::now() >= deadline) {
      log::Debug({}, "{} connection idle for {} ms, closing", options_.protocol,
                 options_.idle_timeout.count());
      transport_.Abort();
      co_return;
    }
    timer_.expires_at(deadline);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace cricket::cri::streaming
