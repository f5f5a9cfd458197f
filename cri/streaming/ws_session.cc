#include "cri/streaming/ws_session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "common/log.h"

namespace cricket::cri::streaming {

namespace {

constexpr size_t kMaxMessageChunk = 64 * 1024;
constexpr uint8_t kCloseSignal = 255;  // remotecommand.StreamClose (v5)

}  // namespace

WsChannel::WsChannel(WsSession& session, uint8_t index)
    : session_(session), index_(index), changed_(session.ws_.get_executor()) {}

awaitable<Result<std::string>> WsChannel::Read() {
  while (inbound_.empty() && !remote_closed_ && !reset_ && !session_.loops_.closed()) {
    co_await changed_.Wait();
  }
  if (!inbound_.empty()) {
    std::string chunk = std::move(inbound_.front());
    inbound_.pop_front();
    inbound_bytes_ -= chunk.size();
    session_.read_room_.Notify();
    co_return chunk;
  }
  if (remote_closed_ && !reset_) {
    co_return std::string();
  }
  co_return Error(Code::kCancelled, "websocket channel closed");
}

awaitable<Result<void>> WsChannel::Write(std::string_view data) {
  auto self = session_.shared_from_this();
  do {
    while (!session_.loops_.closing() && !session_.loops_.closed() && !reset_ && !local_closed_ &&
           session_.loops_.queued_bytes() >= session_.options_.max_write_queue_bytes) {
      co_await session_.loops_.send_room().Wait();
    }
    if (session_.loops_.closing() || session_.loops_.closed() || reset_ || local_closed_) {
      co_return Error(Code::kCancelled, "websocket channel closed");
    }
    size_t n = std::min(data.size(), kMaxMessageChunk);
    std::string message;
    message.reserve(n + 1);
    message.push_back(static_cast<char>(index_));
    message.append(data.substr(0, n));
    session_.QueueMessage(std::move(message));
    data.remove_prefix(n);
  } while (!data.empty());
  co_return Ok();
}

void WsChannel::Reset() {
  reset_ = true;
  changed_.Notify();
  session_.loops_.send_room().Notify();
  session_.read_room_.Notify();
}

std::shared_ptr<WsSession> WsSession::Create(WebSocket ws, WsOptions options) {
  return std::shared_ptr<WsSession>(new WsSession(std::move(ws), options));
}

WsSession::WsSession(WebSocket ws, WsOptions options)
    : ws_(std::move(ws)),
      options_(options),
      read_room_(ws_.get_executor()),
      loops_(ws_.get_executor(), *this,
             {.protocol = "websocket", .idle_timeout = options.idle_timeout, .max_batch = 1}) {
  ws_.binary(true);
  ws_.read_message_max(4 << 20);
  // One frame per message, masked in 64 KiB steps: Beast's 4 KiB default costs a third of the
  // client-to-server throughput.
  ws_.auto_fragment(false);
  ws_.write_buffer_bytes(64 * 1024);
  boost::system::error_code ec;
  ws_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  for (size_t i = 0; i < options_.channels; ++i) {
    channels_.push_back(std::make_unique<WsChannel>(*this, static_cast<uint8_t>(i)));
  }
}

void WsSession::Start() {
  auto ex = ws_.get_executor();
  asio::co_spawn(ex, ReadLoop(shared_from_this()), asio::detached);
  loops_.Start(shared_from_this());
}

void WsSession::Close() {
  if (loops_.closing() || loops_.closed()) {
    return;
  }
  loops_.BeginClose();
}

void WsSession::Abort() {
  if (!loops_.MarkClosed()) {
    return;
  }
  boost::system::error_code ec;
  ws_.next_layer().close(ec);
  for (auto& ch : channels_) {
    ch->changed_.Notify();
  }
  read_room_.Notify();
}

awaitable<void> WsSession::WaitClosed() {
  auto self = shared_from_this();
  co_await loops_.WaitClosed();
}

void WsSession::SendCloseSignal(uint8_t channel) {
  if (!loops_.closing() && !loops_.closed()) {
    QueueMessage(std::string{static_cast<char>(kCloseSignal), static_cast<char>(channel)});
  }
}

void WsSession::QueueMessage(std::string message) { loops_.Queue(std::move(message)); }

bool WsSession::ReadPaused() const {
  for (const auto& ch : channels_) {
    if (ch->inbound_bytes_ > options_.max_channel_buffer_bytes) {
      return true;
    }
  }
  return false;
}

void WsSession::Dispatch(std::string message) {
  // kubelet's wsstream ignores empty messages and bare channel bytes (the "connected" pings).
  if (message.size() < 2) {
    return;
  }
  auto channel = static_cast<uint8_t>(message[0]);
  if (options_.close_signal && channel == kCloseSignal) {
    auto target = static_cast<uint8_t>(message[1]);
    if (target < channels_.size()) {
      channels_[target]->remote_closed_ = true;
      channels_[target]->changed_.Notify();
    }
    return;
  }
  if (channel >= channels_.size()) {
    log::Debug({}, "websocket message for unknown channel {} dropped", channel);
    return;
  }
  WsChannel& ch = *channels_[channel];
  if (ch.remote_closed_ || ch.reset_ || ch.ignore_inbound_) {
    return;
  }
  ch.inbound_bytes_ += message.size() - 1;
  ch.inbound_.push_back(message.substr(1));
  ch.changed_.Notify();
}

awaitable<void> WsSession::ReadLoop(std::shared_ptr<WsSession> /*self*/) {
  beast::flat_buffer buf;
  while (!loops_.closed()) {
    while (!loops_.closed() && ReadPaused()) {
      co_await read_room_.Wait();
    }
    boost::system::error_code ec;
    co_await ws_.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      Abort();
      co_return;
    }
    loops_.Touch();
    std::string message = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    if (!loops_.closing()) {
      Dispatch(std::move(message));
    }
  }
}

awaitable<boost::system::error_code> WsSession::WriteBatch(const std::vector<std::string>& batch) {
  boost::system::error_code ec;
  for (const std::string& message : batch) {
    co_await ws_.async_write(asio::buffer(message), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      break;
    }
  }
  co_return ec;
}

// Flushed after Close(): the close handshake; SessionLoops then lingers until the peer answers
// (the read loop ends) or the linger expires.
awaitable<bool> WsSession::SayGoodbye() {
  boost::system::error_code ec;
  co_await ws_.async_close(beast::websocket::close_code::normal,
                           asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

}  // namespace cricket::cri::streaming
