#include "cri/streaming/spdy_session.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "common/log.h"

namespace cricket::cri::streaming {

namespace {

constexpr size_t kMaxDataChunk = 64 * 1024;
// Queued frames handed to one gathered write.
constexpr size_t kMaxBatch = 64;

Error Cancelled(const char* what) { return Error(Code::kCancelled, what); }

}  // namespace

SpdyStream::SpdyStream(std::shared_ptr<SpdySession> session, uint32_t id, spdy::HeaderBlock headers,
                       int32_t send_window)
    : session_(session),
      id_(id),
      headers_(std::move(headers)),
      send_window_(send_window),
      changed_(session->socket_.get_executor()) {}

void SpdyStream::Reply() {
  auto session = session_.lock();
  if (session && !reset_ && !session->loops_.closed()) {
    // kubelet replies with no headers and spdystream ignores them, but SPDY/3 section 3.2.2 asks
    // for :status and :version, and stricter peers reset streams whose reply lacks them.
    session->QueueFrame(
        spdy::SynReplyFrame{id_, false, {{":status", "200"}, {":version", "HTTP/1.1"}}});
  }
}

awaitable<Result<std::string>> SpdyStream::Read() {
  while (inbound_.empty() && !remote_fin_ && !reset_ && !session_.expired()) {
    co_await changed_.Wait();
  }
  if (!inbound_.empty()) {
    std::string chunk = std::move(inbound_.front());
    inbound_.pop_front();
    inbound_bytes_ -= chunk.size();
    if (auto session = session_.lock()) {
      session->Consumed(*this, chunk.size());
    }
    co_return chunk;
  }
  if (remote_fin_ && !reset_) {
    co_return std::string();
  }
  co_return Cancelled("spdy stream reset");
}

awaitable<Result<void>> SpdyStream::Write(std::string_view data) {
  auto session = session_.lock();
  if (!session) {
    co_return Cancelled("spdy session gone");
  }
  while (!data.empty()) {
    while (session->MustWaitToSend(*this)) {
      co_await session->loops_.send_room().Wait();
    }
    if (reset_ || local_fin_ || session->loops_.closing() || session->loops_.closed()) {
      co_return Cancelled("spdy stream closed");
    }
    size_t n = std::min(data.size(), kMaxDataChunk);
    if (session->peer_flow_control_) {
      n = std::min<size_t>(n,
                           static_cast<size_t>(std::min(send_window_, session->conn_send_window_)));
    }
    std::string frame;
    frame.reserve(spdy::kFrameHeaderBytes + n);
    spdy::AppendDataFrameHeader(frame, id_, false, static_cast<uint32_t>(n));
    frame.append(data.substr(0, n));
    send_window_ -= static_cast<int64_t>(n);
    session->conn_send_window_ -= static_cast<int64_t>(n);
    session->QueueBytes(std::move(frame));
    data.remove_prefix(n);
  }
  co_return Ok();
}

void SpdyStream::CloseWrite() {
  auto session = session_.lock();
  if (!session || local_fin_ || reset_ || session->loops_.closed()) {
    return;
  }
  local_fin_ = true;
  std::string frame;
  spdy::AppendDataFrameHeader(frame, id_, true, 0);
  session->QueueBytes(std::move(frame));
  session->Forget(*this);
}

void SpdyStream::Reset() {
  if (reset_) {
    return;
  }
  reset_ = true;
  changed_.Notify();
  auto session = session_.lock();
  if (!session) {
    return;
  }
  if (!session->loops_.closed()) {
    session->QueueFrame(spdy::RstStreamFrame{id_, spdy::RstStatus::kCancel});
  }
  session->loops_.send_room().Notify();
  session->read_room_.Notify();
  session->Forget(*this);
}

std::shared_ptr<SpdySession> SpdySession::Create(asio::ip::tcp::socket socket, SpdyOptions options,
                                                 std::string initial_bytes) {
  return std::shared_ptr<SpdySession>(
      new SpdySession(std::move(socket), options, std::move(initial_bytes)));
}

SpdySession::SpdySession(asio::ip::tcp::socket socket, SpdyOptions options,
                         std::string initial_bytes)
    : socket_(std::move(socket)),
      options_(options),
      parser_(options.max_frame_bytes),
      next_stream_id_(options.server ? 2 : 1),
      read_room_(socket_.get_executor()),
      loops_(socket_.get_executor(), *this,
             {.protocol = "spdy", .idle_timeout = options.idle_timeout, .max_batch = kMaxBatch}) {
  parser_.Feed(initial_bytes);
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Advertise our receive windows up front (spec 2.6.4, 2.6.8; SPDY/3.1 connection window).
  QueueFrame(spdy::SettingsFrame{false,
                                 {{0, spdy::kSettingsInitialWindowSize,
                                   static_cast<uint32_t>(options_.receive_window_bytes)}}});
  if (options_.receive_window_bytes > spdy::kDefaultInitialWindow) {
    QueueFrame(spdy::WindowUpdateFrame{
        0, static_cast<uint32_t>(options_.receive_window_bytes - spdy::kDefaultInitialWindow)});
  }
}

void SpdySession::Start(StreamHandler on_stream) {
  on_stream_ = std::move(on_stream);
  auto ex = socket_.get_executor();
  asio::co_spawn(ex, ReadLoop(shared_from_this()), asio::detached);
  loops_.Start(shared_from_this());
}

awaitable<Result<std::shared_ptr<SpdyStream>>> SpdySession::OpenStream(spdy::HeaderBlock headers) {
  auto self = shared_from_this();
  if (loops_.closing() || loops_.closed() || next_stream_id_ > spdy::kMaxStreamId) {
    co_return Cancelled("spdy session closed");
  }
  uint32_t id = next_stream_id_;
  next_stream_id_ += 2;
  auto stream = std::make_shared<SpdyStream>(self, id, headers, peer_initial_window_);
  streams_[id] = stream;
  QueueFrame(spdy::SynStreamFrame{id, 0, 0, 0, false, false, std::move(headers)});
  while (!stream->replied_ && !stream->reset_) {
    co_await stream->changed_.Wait();
  }
  if (stream->reset_) {
    co_return Cancelled("spdy stream refused");
  }
  co_return stream;
}

void SpdySession::Close() {
  if (loops_.closing() || loops_.closed()) {
    return;
  }
  QueueFrame(spdy::GoAwayFrame{last_peer_stream_id_, spdy::GoAwayStatus::kOk});
  loops_.BeginClose();
}

void SpdySession::Abort() {
  if (!loops_.MarkClosed()) {
    return;
  }
  on_stream_ = nullptr;  // it may hold streams, which hold us: break the cycle
  boost::system::error_code ec;
  socket_.close(ec);
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    stream->reset_ = true;
    stream->changed_.Notify();
  }
  read_room_.Notify();
}

awaitable<void> SpdySession::WaitClosed() {
  auto self = shared_from_this();
  co_await loops_.WaitClosed();
}

void SpdySession::ProtocolError(const std::string& why) {
  log::Debug({}, "spdy protocol error, closing connection: {}", why);
  if (!loops_.closing() && !loops_.closed()) {
    QueueFrame(spdy::GoAwayFrame{last_peer_stream_id_, spdy::GoAwayStatus::kProtocolError});
  }
  abort_after_flush_ = true;
  loops_.BeginClose();
}

void SpdySession::QueueFrame(const spdy::Frame& frame) {
  std::string bytes;
  auto written = writer_.Write(frame, bytes);
  CR_CHECK(written.ok());  // we only build frames with in-range fields
  QueueBytes(std::move(bytes));
}

void SpdySession::QueueBytes(std::string bytes) { loops_.Queue(std::move(bytes)); }

bool SpdySession::MustWaitToSend(const SpdyStream& stream) const {
  if (stream.reset_ || stream.local_fin_ || loops_.closing() || loops_.closed()) {
    return false;
  }
  if (loops_.queued_bytes() >= options_.max_write_queue_bytes) {
    return true;
  }
  return peer_flow_control_ && (stream.send_window_ <= 0 || conn_send_window_ <= 0);
}

void SpdySession::Consumed(SpdyStream& stream, size_t bytes) {
  read_room_.Notify();
  if (loops_.closed()) {
    return;
  }
  int64_t threshold = options_.receive_window_bytes / 2;
  stream.unacked_bytes_ += static_cast<int64_t>(bytes);
  if (!stream.remote_fin_ && !stream.reset_ && stream.unacked_bytes_ >= threshold) {
    QueueFrame(spdy::WindowUpdateFrame{stream.id_, static_cast<uint32_t>(stream.unacked_bytes_)});
    stream.unacked_bytes_ = 0;
  }
  conn_unacked_bytes_ += static_cast<int64_t>(bytes);
  if (conn_unacked_bytes_ >= threshold) {
    QueueFrame(spdy::WindowUpdateFrame{0, static_cast<uint32_t>(conn_unacked_bytes_)});
    conn_unacked_bytes_ = 0;
  }
}

void SpdySession::Forget(SpdyStream& stream) {
  if (stream.finished()) {
    streams_.erase(stream.id_);
  }
}

}  // namespace cricket::cri::streaming
