#include "cri/streaming/spdy_frame.h"

#include <type_traits>

namespace cricket::cri::streaming::spdy {

namespace {

constexpr uint8_t kFlagFin = 0x01;
constexpr uint8_t kFlagUnidirectional = 0x02;
constexpr uint8_t kFlagClearSettings = 0x01;

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t GetU32(std::string_view b, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data()) + at;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Control frame header: C bit, 15-bit version, 16-bit type, 8-bit flags, 24-bit length.
void PutControlHeader(std::string& out, ControlType type, uint8_t flags, size_t length) {
  out.push_back(static_cast<char>(0x80 | (kVersion >> 8)));
  out.push_back(static_cast<char>(kVersion & 0xff));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) >> 8));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) & 0xff));
  PutU32(out, (uint32_t{flags} << 24) | static_cast<uint32_t>(length));
}

Error Malformed(std::string_view what) {
  return Error(Code::kInvalidArgument, "malformed spdy frame: " + std::string(what));
}

Result<void> CheckStreamId(uint32_t id, bool zero_ok) {
  if (id > kMaxStreamId || (id == 0 && !zero_ok)) {
    return Error(Code::kInvalidArgument, "spdy stream id out of range: " + std::to_string(id));
  }
  return Ok();
}

// Writes a control frame whose body is `fixed` followed by a compressed header block.
Result<void> WriteWithHeaders(std::string& out, ControlType type, uint8_t flags,
                              const std::string& fixed, const HeaderBlock& headers,
                              HeaderCompressor& compressor) {
  std::string block;
  CR_RETURN_IF_ERROR(compressor.Compress(headers, block));
  size_t length = fixed.size() + block.size();
  if (length > kMaxFrameLength) {
    return Error(Code::kInvalidArgument, "spdy header block too large");
  }
  PutControlHeader(out, type, flags, length);
  out += fixed;
  out += block;
  return Ok();
}

}  // namespace

void AppendDataFrameHeader(std::string& out, uint32_t stream_id, bool fin, uint32_t length) {
  PutU32(out, stream_id & kMaxStreamId);
  PutU32(out, (uint32_t{fin ? kFlagFin : uint8_t{0}} << 24) | (length & kMaxFrameLength));
}

Result<void> FrameWriter::Write(const Frame& frame, std::string& out) {
  return std::visit(
      [&](const auto& f) -> Result<void> {
        using T = std::decay_t<decltype(f)>;
        std::string fixed;
        if constexpr (std::is_same_v<T, DataFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.stream_id, false));
          if (f.data.size() > kMaxFrameLength) {
            return Error(Code::kInvalidArgument, "spdy data frame too large");
          }
          AppendDataFrameHeader(out, f.stream_id, f.fin, static_cast<uint32_t>(f.data.size()));
          out += f.data;
        } else if constexpr (std::is_same_v<T, SynStreamFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.stream_id, false));
          CR_RETURN_IF_ERROR(CheckStreamId(f.associated_stream_id, true));
          PutU32(fixed, f.stream_id);
          PutU32(fixed, f.associated_stream_id);
          fixed.push_back(static_cast<char>((f.priority & 0x7) << 5));
          fixed.push_back(static_cast<char>(f.slot));
          uint8_t flags = (f.fin ? kFlagFin : 0) | (f.unidirectional ? kFlagUnidirectional : 0);
          return WriteWithHeaders(out, ControlType::kSynStream, flags, fixed, f.headers,
                                  compressor_);
        } else if constexpr (std::is_same_v<T, SynReplyFrame> || std::is_same_v<T, HeadersFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.stream_id, false));
          PutU32(fixed, f.stream_id);
          ControlType type =
              std::is_same_v<T, SynReplyFrame> ? ControlType::kSynReply : ControlType::kHeaders;
          return WriteWithHeaders(out, type, f.fin ? kFlagFin : 0, fixed, f.headers, compressor_);
        } else if constexpr (std::is_same_v<T, RstStreamFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.stream_id, false));
          PutControlHeader(out, ControlType::kRstStream, 0, 8);
          PutU32(out, f.stream_id);
          PutU32(out, static_cast<uint32_t>(f.status));
        } else if constexpr (std::is_same_v<T, SettingsFrame>) {
          PutControlHeader(out, ControlType::kSettings, f.clear ? kFlagClearSettings : 0,
                           4 + 8 * f.entries.size());
          PutU32(out, static_cast<uint32_t>(f.entries.size()));
          for (const Setting& s : f.entries) {
            PutU32(out, (uint32_t{s.flags} << 24) | (s.id & 0xffffff));
            PutU32(out, s.value);
          }
        } else if constexpr (std::is_same_v<T, PingFrame>) {
          PutControlHeader(out, ControlType::kPing, 0, 4);
          PutU32(out, f.id);
        } else if constexpr (std::is_same_v<T, GoAwayFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.last_good_stream_id, true));
          PutControlHeader(out, ControlType::kGoAway, 0, 8);
          PutU32(out, f.last_good_stream_id);
          PutU32(out, static_cast<uint32_t>(f.status));
        } else if constexpr (std::is_same_v<T, WindowUpdateFrame>) {
          CR_RETURN_IF_ERROR(CheckStreamId(f.stream_id, true));
          if (f.delta == 0 || f.delta > 0x7fffffff) {
            return Error(Code::kInvalidArgument, "spdy window delta out of range");
          }
          PutControlHeader(out, ControlType::kWindowUpdate, 0, 8);
          PutU32(out, f.stream_id);
          PutU32(out, f.delta);
        }
        return Ok();
      },
      frame);
}

FrameParser::FrameParser(uint32_t max_frame_length) : max_frame_length_(max_frame_length) {}

void FrameParser::Feed(std::string_view bytes) {
  // Drop consumed bytes once they dominate, so the buffer stays about one frame long.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Frame>> FrameParser::Next() {
  while (true) {
    if (failed_) {
      return *failed_;
    }
    std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
    if (avail.size() < kFrameHeaderBytes) {
      return std::optional<Frame>();
    }
    uint32_t word0 = GetU32(avail, 0);
    uint32_t word1 = GetU32(avail, 4);
    uint8_t flags = static_cast<uint8_t>(word1 >> 24);
    uint32_t length = word1 & kMaxFrameLength;
    if (length > max_frame_length_) {
      failed_ = Malformed("frame of " + std::to_string(length) + " bytes exceeds the limit");
      continue;
    }
    if (avail.size() < kFrameHeaderBytes + length) {
      return std::optional<Frame>();
    }
    std::string_view body = avail.substr(kFrameHeaderBytes, length);
    pos_ += kFrameHeaderBytes + length;
    if ((word0 & 0x80000000u) == 0) {
      if (word0 == 0) {
        failed_ = Malformed("data frame on stream 0");
        continue;
      }
      if ((flags & ~kFlagFin) != 0) {
        failed_ = Malformed("unknown data frame flags");
        continue;
      }
      return std::optional<Frame>(DataFrame{word0, (flags & kFlagFin) != 0, std::string(body)});
    }
    uint16_t version = static_cast<uint16_t>((word0 >> 16) & 0x7fff);
    if (version != kVersion) {
      failed_ = Malformed("unsupported version " + std::to_string(version));
      continue;
    }
    auto parsed = ParseControl(static_cast<uint16_t>(word0 & 0xffff), flags, body);
    if (!parsed.ok()) {
      failed_ = parsed.error();
      continue;
    }
    if (parsed->has_value()) {
      return parsed;
    }
    // An unknown control frame: skipped, try the next one.
  }
}

Result<std::optional<Frame>> FrameParser::ParseControl(uint16_t type, uint8_t flags,
                                                       std::string_view body) {
  auto fixed_length = [&](size_t want) -> Result<void> {
    if (body.size() != want) {
      return Malformed("control frame type " + std::to_string(type) + " has length " +
                       std::to_string(body.size()));
    }
    return Ok();
  };
  auto min_length = [&](size_t want) -> Result<void> {
    if (body.size() < want) {
      return Malformed("control frame type " + std::to_string(type) + " too short");
    }
    return Ok();
  };
  auto stream_id = [&](size_t at) -> Result<uint32_t> {
    uint32_t id = GetU32(body, at) & kMaxStreamId;
    if (id == 0) {
      return Malformed("stream id 0 in control frame type " + std::to_string(type));
    }
    return id;
  };
  switch (static_cast<ControlType>(type)) {
    case ControlType::kSynStream: {
      CR_RETURN_IF_ERROR(min_length(10));
      SynStreamFrame f;
      CR_ASSIGN_OR_RETURN(f.stream_id, stream_id(0));
      f.associated_stream_id = GetU32(body, 4) & kMaxStreamId;
      f.priority = static_cast<uint8_t>(static_cast<unsigned char>(body[8]) >> 5);
      f.slot = static_cast<uint8_t>(body[9]);
      f.fin = (flags & kFlagFin) != 0;
      f.unidirectional = (flags & kFlagUnidirectional) != 0;
      CR_ASSIGN_OR_RETURN(f.headers, decompressor_.Decompress(body.substr(10)));
      return std::optional<Frame>(std::move(f));
    }
    case ControlType::kSynReply:
    case ControlType::kHeaders: {
      CR_RETURN_IF_ERROR(min_length(4));
      CR_ASSIGN_OR_RETURN(uint32_t id, stream_id(0));
      CR_ASSIGN_OR_RETURN(HeaderBlock headers, decompressor_.Decompress(body.substr(4)));
      bool fin = (flags & kFlagFin) != 0;
      if (static_cast<ControlType>(type) == ControlType::kSynReply) {
        return std::optional<Frame>(SynReplyFrame{id, fin, std::move(headers)});
      }
      return std::optional<Frame>(HeadersFrame{id, fin, std::move(headers)});
    }
    case ControlType::kRstStream: {
      CR_RETURN_IF_ERROR(fixed_length(8));
      CR_ASSIGN_OR_RETURN(uint32_t id, stream_id(0));
      return std::optional<Frame>(RstStreamFrame{id, static_cast<RstStatus>(GetU32(body, 4))});
    }
    case ControlType::kSettings: {
      CR_RETURN_IF_ERROR(min_length(4));
      uint32_t count = GetU32(body, 0);
      if (count > (body.size() - 4) / 8 || body.size() != 4 + size_t{count} * 8) {
        return Malformed("settings entry count does not match length");
      }
      SettingsFrame f;
      f.clear = (flags & kFlagClearSettings) != 0;
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t head = GetU32(body, 4 + size_t{i} * 8);
        f.entries.push_back(Setting{static_cast<uint8_t>(head >> 24), head & 0xffffff,
                                    GetU32(body, 8 + size_t{i} * 8)});
      }
      return std::optional<Frame>(std::move(f));
    }
    case ControlType::kPing:
      CR_RETURN_IF_ERROR(fixed_length(4));
      return std::optional<Frame>(PingFrame{GetU32(body, 0)});
    case ControlType::kGoAway:
      CR_RETURN_IF_ERROR(fixed_length(8));
      return std::optional<Frame>(
          GoAwayFrame{GetU32(body, 0) & kMaxStreamId, static_cast<GoAwayStatus>(GetU32(body, 4))});
    case ControlType::kWindowUpdate: {
      CR_RETURN_IF_ERROR(fixed_length(8));
      uint32_t delta = GetU32(body, 4) & 0x7fffffff;
      if (delta == 0) {
        return Malformed("window update with delta 0");
      }
      return std::optional<Frame>(WindowUpdateFrame{GetU32(body, 0) & kMaxStreamId, delta});
    }
  }
  return std::optional<Frame>();  // unknown type (NOOP, CREDENTIAL, future ones): ignored
}

}  // namespace cricket::cri::streaming::spdy
