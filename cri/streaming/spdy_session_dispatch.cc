// SpdySession's read loop, its writes for SessionLoops, and its frame dispatch.

#include <boost/asio/write.hpp>
#include <type_traits>
#include <vector>

#include "common/log.h"
#include "cri/streaming/spdy_session.h"

namespace cricket::cri::streaming {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int64_t kMaxWindow = 0x7fffffff;

}  // namespace

bool SpdySession::ReadPaused() const {
  if (peer_flow_control_) {
    return false;  // the peer keeps within our windows (HandleData resets streams that do not)
  }
  for (const auto& [id, stream] : streams_) {
    if (stream->inbound_bytes_ > options_.max_stream_buffer_bytes) {
      return true;
    }
  }
  return false;
}

awaitable<void> SpdySession::ReadLoop(std::shared_ptr<SpdySession> /*self*/) {
  std::vector<char> buf(kReadChunk);
  while (!loops_.closed()) {
    while (!abort_after_flush_) {
      auto next = parser_.Next();
      if (!next.ok()) {
        ProtocolError(next.error().message());
        co_return;
      }
      if (!next->has_value()) {
        break;
      }
      if (loops_.closing()) {
        continue;  // draining after GOAWAY: frames are dropped
      }
      if (auto handled = HandleFrame(std::move(**next)); !handled.ok()) {
        ProtocolError(handled.error().message());
        co_return;
      }
    }
    while (!loops_.closed() && ReadPaused()) {
      co_await read_room_.Wait();
    }
    if (loops_.closed() || abort_after_flush_) {
      co_return;
    }
    boost::system::error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(buf),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      Abort();  // EOF or error: streams without FIN are reset
      co_return;
    }
    loops_.Touch();
    parser_.Feed(std::string_view(buf.data(), n));
  }
}

awaitable<boost::system::error_code> SpdySession::WriteBatch(
    const std::vector<std::string>& batch) {
  write_buffers_.clear();
  for (const std::string& b : batch) {
    write_buffers_.emplace_back(asio::buffer(b));
  }
  boost::system::error_code ec;
  co_await asio::async_write(socket_, write_buffers_,
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

// Flushed after Close(): FIN, then SessionLoops lingers reading until the peer closes too; after
// a protocol error, no linger.
awaitable<bool> SpdySession::SayGoodbye() {
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  co_return !abort_after_flush_;
}

Result<void> SpdySession::HandleFrame(spdy::Frame frame) {
  return std::visit(
      [&](auto& f) -> Result<void> {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, spdy::DataFrame>) {
          return HandleData(f);
        } else if constexpr (std::is_same_v<T, spdy::SynStreamFrame>) {
          return HandleSynStream(f);
        } else if constexpr (std::is_same_v<T, spdy::SettingsFrame>) {
          HandleSettings(f);
        } else if constexpr (std::is_same_v<T, spdy::WindowUpdateFrame>) {
          HandleWindowUpdate(f);
        } else if constexpr (std::is_same_v<T, spdy::PingFrame>) {
          // Spec 2.6.5: echo pings the peer started (odd ids from a client, even from a server).
          bool peer_started = (f.id % 2 == 1) == options_.server;
          if (peer_started) {
            QueueFrame(f);
          }
        } else if constexpr (std::is_same_v<T, spdy::GoAwayFrame>) {
          if (streams_.empty()) {
            Close();
          }
        } else {
          // SYN_REPLY, HEADERS, RST_STREAM: the stream may be gone already, which is fine.
          auto it = streams_.find(f.stream_id);
          if (it == streams_.end()) {
            return Ok();
          }
          std::shared_ptr<SpdyStream> stream = it->second;
          if constexpr (std::is_same_v<T, spdy::RstStreamFrame>) {
            stream->reset_ = true;
            loops_.send_room().Notify();
          } else {
            if constexpr (std::is_same_v<T, spdy::SynReplyFrame>) {
              stream->replied_ = true;
            }
            stream->remote_fin_ = stream->remote_fin_ || f.fin;
          }
          stream->changed_.Notify();
          Forget(*stream);
        }
        return Ok();
      },
      frame);
}

Result<void> SpdySession::HandleData(spdy::DataFrame& frame) {
  auto it = streams_.find(frame.stream_id);
  if (it == streams_.end()) {
    QueueFrame(spdy::RstStreamFrame{frame.stream_id, spdy::RstStatus::kInvalidStream});
    return Ok();
  }
  std::shared_ptr<SpdyStream> stream = it->second;
  if (stream->remote_fin_) {
    stream->Reset();
    return Ok();
  }
  if (!frame.data.empty() && stream->ignore_inbound_) {
    // Dropped, but still returned to the peer's window as if consumed.
    Consumed(*stream, frame.data.size());
  } else if (!frame.data.empty()) {
    stream->inbound_bytes_ += frame.data.size();
    stream->inbound_.push_back(std::move(frame.data));
  }
  if (peer_flow_control_ &&
      stream->inbound_bytes_ > static_cast<size_t>(options_.receive_window_bytes)) {
    // The peer ignored our window: a stream error (spec 2.6.8), the others go on.
    QueueFrame(spdy::RstStreamFrame{stream->id_, spdy::RstStatus::kFlowControlError});
    stream->reset_ = true;
    stream->changed_.Notify();
    Forget(*stream);
    return Ok();
  }
  stream->remote_fin_ = frame.fin;
  stream->changed_.Notify();
  Forget(*stream);
  return Ok();
}

Result<void> SpdySession::HandleSynStream(spdy::SynStreamFrame& frame) {
  bool peer_parity = (frame.stream_id % 2 == 1) == options_.server;
  if (!peer_parity || frame.stream_id <= last_peer_stream_id_) {
    return Error(Code::kInvalidArgument,
                 "spdy SYN_STREAM with unexpected stream id " + std::to_string(frame.stream_id));
  }
  last_peer_stream_id_ = frame.stream_id;
  if (loops_.closing() || !on_stream_ || streams_.size() >= options_.max_streams) {
    QueueFrame(spdy::RstStreamFrame{frame.stream_id, spdy::RstStatus::kRefusedStream});
    return Ok();
  }
  auto stream = std::make_shared<SpdyStream>(shared_from_this(), frame.stream_id,
                                             std::move(frame.headers), peer_initial_window_);
  stream->replied_ = true;
  stream->remote_fin_ = frame.fin;
  stream->local_fin_ = frame.unidirectional;
  streams_[frame.stream_id] = stream;
  on_stream_(stream);
  return Ok();
}

void SpdySession::HandleSettings(const spdy::SettingsFrame& frame) {
  peer_flow_control_ = true;
  for (const spdy::Setting& s : frame.entries) {
    if (s.id == spdy::kSettingsInitialWindowSize && s.value <= kMaxWindow) {
      // Spec 2.6.8: a new initial window shifts the window of every open stream.
      int64_t delta = static_cast<int64_t>(s.value) - peer_initial_window_;
      peer_initial_window_ = static_cast<int32_t>(s.value);
      for (auto& [id, stream] : streams_) {
        stream->send_window_ += delta;
      }
    }
  }
  loops_.send_room().Notify();
}

void SpdySession::HandleWindowUpdate(const spdy::WindowUpdateFrame& frame) {
  peer_flow_control_ = true;
  if (frame.stream_id == 0) {
    conn_send_window_ = std::min<int64_t>(conn_send_window_ + frame.delta, kMaxWindow);
  } else if (auto it = streams_.find(frame.stream_id); it != streams_.end()) {
    SpdyStream& stream = *it->second;
    if (stream.send_window_ + frame.delta > kMaxWindow) {
      QueueFrame(spdy::RstStreamFrame{stream.id_, spdy::RstStatus::kFlowControlError});
      stream.reset_ = true;
      stream.changed_.Notify();
      Forget(stream);
    } else {
      stream.send_window_ += frame.delta;
    }
  }
  loops_.send_room().Notify();
}

}  // namespace cricket::cri::streaming
