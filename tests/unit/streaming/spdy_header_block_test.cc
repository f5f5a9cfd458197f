#include "cri/streaming/spdy_header_block.h"

#include <zlib.h>

#include <gtest/gtest.h>

#include "tests/unit/streaming/spdy_test_util.h"

namespace cricket::cri::streaming::spdy {
namespace {

using testing::Bytes;
using testing::U32;

TEST(SpdyHeaderBlockTest, EncodesPairsAsSpecDraws) {
  std::string raw = EncodeHeaderPairs({{"streamType", "error"}});
  EXPECT_EQ(raw, U32(1) + U32(10) + "streamtype" + U32(5) + "error");
}

TEST(SpdyHeaderBlockTest, RoundTripsManyBlocksThroughOneContext) {
  HeaderCompressor compressor;
  HeaderDecompressor decompressor;
  for (int i = 0; i < 50; ++i) {
    HeaderBlock in = {{"streamtype", "data"},
                      {"port", std::to_string(8000 + i)},
                      {"requestid", std::to_string(i)},
                      {"multi", std::string("a\0b", 3)}};
    std::string block;
    ASSERT_TRUE(compressor.Compress(in, block).ok());
    auto out = decompressor.Decompress(block);
    ASSERT_TRUE(out.ok()) << out.error().ToString();
    EXPECT_EQ(*out, in);
  }
}

TEST(SpdyHeaderBlockTest, DecompressesBlockMadeByPlainZlib) {
  std::string raw =
      U32(2) + U32(4) + "port" + U32(4) + "8080" + U32(9) + "requestid" + U32(1) + "7";
  HeaderDecompressor decompressor;
  auto out = decompressor.Decompress(testing::ZlibWithDictionary(raw));
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  HeaderBlock want = {{"port", "8080"}, {"requestid", "7"}};
  EXPECT_EQ(*out, want);
  EXPECT_EQ(FindHeader(*out, "RequestID"), "7");
}

TEST(SpdyHeaderBlockTest, CompressorOutputInflatesWithPlainZlib) {
  HeaderCompressor compressor;
  std::string block;
  ASSERT_TRUE(compressor.Compress({{"streamtype", "stdout"}}, block).ok());
  z_stream zs{};
  ASSERT_EQ(inflateInit(&zs), Z_OK);
  std::string out(256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(block.data());
  zs.avail_in = static_cast<uInt>(block.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(inflate(&zs, Z_SYNC_FLUSH), Z_NEED_DICT);
  auto dict = HeaderDictionary();
  ASSERT_EQ(inflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dict.data()),
                                 static_cast<uInt>(dict.size())),
            Z_OK);
  ASSERT_EQ(inflate(&zs, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - zs.avail_out);
  inflateEnd(&zs);
  EXPECT_EQ(out, U32(1) + U32(10) + "streamtype" + U32(6) + "stdout");
}

TEST(SpdyHeaderBlockTest, RejectsCorruptCompressedData) {
  HeaderDecompressor decompressor;
  auto out = decompressor.Decompress(Bytes({0x78, 0xbb, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11}));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), Code::kInvalidArgument);
  // The context is gone for good: a later valid block fails too.
  HeaderCompressor compressor;
  std::string block;
  ASSERT_TRUE(compressor.Compress({{"a", "b"}}, block).ok());
  EXPECT_FALSE(decompressor.Decompress(block).ok());
}

TEST(SpdyHeaderBlockTest, RejectsMalformedPairLists) {
  EXPECT_FALSE(DecodeHeaderPairs(U32(1) + U32(9) + "short").ok());
  EXPECT_FALSE(DecodeHeaderPairs(U32(1) + U32(1) + "A" + U32(0)).ok());
  EXPECT_FALSE(DecodeHeaderPairs(U32(1) + U32(0) + U32(0)).ok());
  EXPECT_FALSE(DecodeHeaderPairs(U32(2) + U32(1) + "a" + U32(0) + U32(1) + "a" + U32(0)).ok());
  EXPECT_FALSE(DecodeHeaderPairs(U32(0xffffffff)).ok());
  EXPECT_FALSE(DecodeHeaderPairs(U32(0) + "x").ok());
}

TEST(SpdyHeaderBlockTest, RejectsBombLargerThanLimit) {
  std::string big(300 * 1024, 'v');
  std::string raw = U32(1) + U32(1) + "x" + U32(static_cast<uint32_t>(big.size())) + big;
  HeaderDecompressor decompressor(256 * 1024);
  auto out = decompressor.Decompress(testing::ZlibWithDictionary(raw));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message().find("too large"), std::string::npos);
}

}  // namespace
}  // namespace cricket::cri::streaming::spdy
