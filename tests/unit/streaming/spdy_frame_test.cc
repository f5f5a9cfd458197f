#include "cri/streaming/spdy_frame.h"

#include <gtest/gtest.h>

#include "tests/unit/streaming/spdy_test_util.h"

namespace cricket::cri::streaming::spdy {
namespace {

using testing::Bytes;
using testing::U32;

// Feeds `wire` and returns the single frame it holds.
Frame ParseOne(const std::string& wire) {
  FrameParser parser;
  parser.Feed(wire);
  auto frame = parser.Next();
  EXPECT_TRUE(frame.ok()) << frame.error().ToString();
  EXPECT_TRUE(frame->has_value());
  EXPECT_EQ(parser.buffered(), 0u);
  return **frame;
}

std::string Serialize(const Frame& frame) {
  FrameWriter writer;
  std::string out;
  EXPECT_TRUE(writer.Write(frame, out).ok());
  return out;
}

TEST(SpdyFrameTest, PingMatchesSpecLayout) {
  std::string wire = Bytes({0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04}) + U32(7);
  EXPECT_EQ(Serialize(PingFrame{7}), wire);
  EXPECT_EQ(std::get<PingFrame>(ParseOne(wire)).id, 7u);
}

TEST(SpdyFrameTest, DataFrameWithFin) {
  std::string wire = Bytes({0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x02}) + "hi";
  EXPECT_EQ(Serialize(DataFrame{5, true, "hi"}), wire);
  auto data = std::get<DataFrame>(ParseOne(wire));
  EXPECT_EQ(data.stream_id, 5u);
  EXPECT_TRUE(data.fin);
  EXPECT_EQ(data.data, "hi");
}

TEST(SpdyFrameTest, RstStreamGoAwayWindowUpdate) {
  std::string rst = Bytes({0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08}) + U32(1) + U32(5);
  EXPECT_EQ(Serialize(RstStreamFrame{1, RstStatus::kCancel}), rst);
  EXPECT_EQ(std::get<RstStreamFrame>(ParseOne(rst)).status, RstStatus::kCancel);

  std::string goaway = Bytes({0x80, 0x03, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08}) + U32(9) + U32(1);
  EXPECT_EQ(Serialize(GoAwayFrame{9, GoAwayStatus::kProtocolError}), goaway);
  auto g = std::get<GoAwayFrame>(ParseOne(goaway));
  EXPECT_EQ(g.last_good_stream_id, 9u);
  EXPECT_EQ(g.status, GoAwayStatus::kProtocolError);

  std::string wu = Bytes({0x80, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08}) + U32(0) + U32(0x10000);
  EXPECT_EQ(Serialize(WindowUpdateFrame{0, 0x10000}), wu);
  auto w = std::get<WindowUpdateFrame>(ParseOne(wu));
  EXPECT_EQ(w.stream_id, 0u);
  EXPECT_EQ(w.delta, 0x10000u);
}

TEST(SpdyFrameTest, SettingsInitialWindowSize) {
  std::string wire = Bytes({0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0c}) + U32(1) +
                     U32(kSettingsInitialWindowSize) + U32(1 << 20);
  EXPECT_EQ(Serialize(SettingsFrame{false, {{0, kSettingsInitialWindowSize, 1 << 20}}}), wire);
  auto s = std::get<SettingsFrame>(ParseOne(wire));
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].id, kSettingsInitialWindowSize);
  EXPECT_EQ(s.entries[0].value, 1u << 20);
}

TEST(SpdyFrameTest, SynStreamFromSpecBytes) {
  std::string raw = U32(1) + U32(10) + "streamtype" + U32(5) + "error";
  std::string block = testing::ZlibWithDictionary(raw);
  std::string body = U32(3) + U32(0) + Bytes({0x40, 0x00}) + block;  // priority 2
  std::string wire =
      Bytes({0x80, 0x03, 0x00, 0x01, 0x02}) +
      Bytes({0, static_cast<int>(body.size() >> 8), static_cast<int>(body.size() & 0xff)}) + body;
  auto syn = std::get<SynStreamFrame>(ParseOne(wire));
  EXPECT_EQ(syn.stream_id, 3u);
  EXPECT_EQ(syn.priority, 2);
  EXPECT_TRUE(syn.unidirectional);
  EXPECT_FALSE(syn.fin);
  EXPECT_EQ(FindHeader(syn.headers, "streamtype"), "error");
}

TEST(SpdyFrameTest, HeaderFramesRoundTripThroughSharedContexts) {
  FrameWriter writer;
  FrameParser parser;
  std::string wire;
  ASSERT_TRUE(
      writer.Write(SynStreamFrame{1, 0, 0, 0, false, false, {{"streamtype", "stdin"}}}, wire).ok());
  ASSERT_TRUE(writer.Write(SynReplyFrame{1, false, {}}, wire).ok());
  ASSERT_TRUE(writer.Write(HeadersFrame{1, true, {{"x", "y"}}}, wire).ok());
  // Byte by byte: the parser must wait for complete frames.
  std::vector<Frame> frames;
  for (char c : wire) {
    parser.Feed(std::string_view(&c, 1));
    auto next = parser.Next();
    ASSERT_TRUE(next.ok()) << next.error().ToString();
    if (next->has_value()) {
      frames.push_back(**next);
    }
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(FindHeader(std::get<SynStreamFrame>(frames[0]).headers, "streamtype"), "stdin");
  EXPECT_TRUE(std::get<SynReplyFrame>(frames[1]).headers.empty());
  EXPECT_TRUE(std::get<HeadersFrame>(frames[2]).fin);
}

TEST(SpdyFrameTest, SkipsUnknownControlFrame) {
  std::string noop = Bytes({0x80, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00});
  std::string ping = Bytes({0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04}) + U32(2);
  EXPECT_EQ(std::get<PingFrame>(ParseOne(noop + ping)).id, 2u);
}

void ExpectCorrupt(const std::string& wire) {
  FrameParser parser;
  parser.Feed(wire);
  auto frame = parser.Next();
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(parser.Next().ok());  // sticky
}

TEST(SpdyFrameTest, RejectsCorruptFrames) {
  ExpectCorrupt(Bytes({0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04}) + U32(1));  // version 2
  ExpectCorrupt(Bytes({0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x05}) + U32(1) + "x");
  ExpectCorrupt(Bytes({0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0c}) + U32(2) + U32(7) + U32(1));
  ExpectCorrupt(Bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}) + "x");  // stream 0
  ExpectCorrupt(Bytes({0x80, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08}) + U32(1) + U32(0));
  ExpectCorrupt(Bytes({0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08}) + U32(0) + U32(1));
  // A SYN_STREAM whose header block is garbage.
  ExpectCorrupt(Bytes({0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0e}) + U32(1) + U32(0) +
                Bytes({0, 0, 0x78, 0x01, 0xff, 0xff}));
}

TEST(SpdyFrameTest, RefusesOversizedFrameBeforeBuffering) {
  FrameParser parser(1024);
  parser.Feed(Bytes({0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}));  // 64 KiB announced
  EXPECT_FALSE(parser.Next().ok());
}

TEST(SpdyFrameTest, WriterRejectsOutOfRangeFields) {
  FrameWriter writer;
  std::string out;
  EXPECT_FALSE(writer.Write(DataFrame{0, false, "x"}, out).ok());
  EXPECT_FALSE(writer.Write(WindowUpdateFrame{1, 0}, out).ok());
  EXPECT_FALSE(writer.Write(RstStreamFrame{0x80000000u, RstStatus::kCancel}, out).ok());
}

}  // namespace
}  // namespace cricket::cri::streaming::spdy
