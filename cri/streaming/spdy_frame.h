#pragma once

// SPDY/3.1 frames (the public draft-mbelshe-httpbis-spdy-00 / SPDY/3.1 spec) as values, a
// serializer and an incremental parser. Header blocks are compressed by the connection's
// HeaderCompressor / HeaderDecompressor, which FrameWriter and FrameParser own, one per direction.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "cri/streaming/spdy_header_block.h"

namespace cricket::cri::streaming::spdy {

inline constexpr uint16_t kVersion = 3;
inline constexpr size_t kFrameHeaderBytes = 8;
inline constexpr uint32_t kMaxFrameLength = (1u << 24) - 1;
inline constexpr uint32_t kMaxStreamId = 0x7fffffff;
inline constexpr int32_t kDefaultInitialWindow = 64 * 1024;  // spec 2.6.8 and 3.1

enum class ControlType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

// RST_STREAM status codes (spec 2.6.3).
enum class RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

// GOAWAY status codes (spec 2.6.6).
enum class GoAwayStatus : uint32_t { kOk = 0, kProtocolError = 1, kInternalError = 2 };

// SETTINGS ids (spec 2.6.4); only INITIAL_WINDOW_SIZE changes our behaviour.
inline constexpr uint32_t kSettingsMaxConcurrentStreams = 4;
inline constexpr uint32_t kSettingsInitialWindowSize = 7;

struct DataFrame {
  uint32_t stream_id = 0;
  bool fin = false;
  std::string data;
};
struct SynStreamFrame {
  uint32_t stream_id = 0;
  uint32_t associated_stream_id = 0;
  uint8_t priority = 0;  // 0 (highest) .. 7
  uint8_t slot = 0;
  bool fin = false;
  bool unidirectional = false;
  HeaderBlock headers;
};
struct SynReplyFrame {
  uint32_t stream_id = 0;
  bool fin = false;
  HeaderBlock headers;
};
struct RstStreamFrame {
  uint32_t stream_id = 0;
  RstStatus status = RstStatus::kProtocolError;
};
struct Setting {
  uint8_t flags = 0;
  uint32_t id = 0;  // 24 bits
  uint32_t value = 0;
};
struct SettingsFrame {
  bool clear = false;
  std::vector<Setting> entries;
};
struct PingFrame {
  uint32_t id = 0;
};
struct GoAwayFrame {
  uint32_t last_good_stream_id = 0;
  GoAwayStatus status = GoAwayStatus::kOk;
};
struct HeadersFrame {
  uint32_t stream_id = 0;
  bool fin = false;
  HeaderBlock headers;
};
struct WindowUpdateFrame {
  uint32_t stream_id = 0;  // 0: the connection window (SPDY/3.1)
  uint32_t delta = 0;      // 1 .. 2^31-1
};

using Frame = std::variant<DataFrame, SynStreamFrame, SynReplyFrame, RstStreamFrame, SettingsFrame,
                           PingFrame, GoAwayFrame, HeadersFrame, WindowUpdateFrame>;

// Appends the 8-byte header of a DATA frame; the caller appends `length` payload bytes. This
// keeps bulk data out of an intermediate Frame.
void AppendDataFrameHeader(std::string& out, uint32_t stream_id, bool fin, uint32_t length);

// Serializes frames of one direction of a connection. Not thread-safe.
class FrameWriter {
 public:
  // Appends the wire form of `frame` to `out`. kInvalidArgument for out-of-range fields (a
  // stream id over 31 bits, a zero window delta, a payload over 2^24-1 bytes).
  Result<void> Write(const Frame& frame, std::string& out);

 private:
  HeaderCompressor compressor_;
};

// Parses the byte stream of one direction of a connection, frame by frame. Not thread-safe.
// Any error is a session error: the caller sends GOAWAY and closes the connection, since the
// shared header-compression context can no longer be trusted.
class FrameParser {
 public:
  // Frames longer than `max_frame_length` are refused before their payload is buffered.
  explicit FrameParser(uint32_t max_frame_length = 1 << 20);

  // Appends received bytes.
  void Feed(std::string_view bytes);

  // The next complete frame, std::nullopt when more bytes are needed, or kInvalidArgument for
  // a malformed frame. Control frames of unknown type are skipped (spec 2.2.1); a control
  // frame of another version is an error. After an error every later call fails too.
  Result<std::optional<Frame>> Next();

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Result<std::optional<Frame>> ParseControl(uint16_t type, uint8_t flags, std::string_view body);

  std::string buf_;
  size_t pos_ = 0;
  uint32_t max_frame_length_;
  std::optional<Error> failed_;
  HeaderDecompressor decompressor_;
};

}  // namespace cricket::cri::streaming::spdy
