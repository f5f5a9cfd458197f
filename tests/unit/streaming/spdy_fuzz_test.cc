// Fuzz-style tests: the parser must survive any input without crashing (CI runs this under
// ASan and UBSan). Seeds are fixed so a failure reproduces.

#include <random>

#include <gtest/gtest.h>

#include "cri/streaming/spdy_frame.h"

namespace cricket::cri::streaming::spdy {
namespace {

// Feeds `input` in random chunk sizes and drains frames until an error or lack of bytes.
void Drain(const std::string& input, std::mt19937& rng) {
  FrameParser parser(64 * 1024);
  size_t at = 0;
  while (at < input.size()) {
    size_t n = std::min<size_t>(input.size() - at, 1 + rng() % 64);
    parser.Feed(std::string_view(input).substr(at, n));
    at += n;
    for (;;) {
      auto next = parser.Next();
      if (!next.ok()) {
        return;
      }
      if (!next->has_value()) {
        break;
      }
    }
  }
}

TEST(SpdyFuzzTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string input(rng() % 256, '\0');
    for (char& c : input) {
      c = static_cast<char>(rng());
    }
    // Bias towards plausible control frame headers so deeper paths run.
    if (input.size() >= 8 && rng() % 2 == 0) {
      input[0] = static_cast<char>(0x80);
      input[1] = 0x03;
      input[2] = 0x00;
      input[3] = static_cast<char>(1 + rng() % 9);
      uint32_t len = static_cast<uint32_t>(input.size() - 8);
      input[5] = static_cast<char>(len >> 16);
      input[6] = static_cast<char>(len >> 8);
      input[7] = static_cast<char>(len);
    }
    Drain(input, rng);
  }
}

TEST(SpdyFuzzTest, MutatedValidStreamsNeverCrash) {
  FrameWriter writer;
  std::string valid;
  for (uint32_t id = 1; id < 40; id += 2) {
    ASSERT_TRUE(
        writer
            .Write(
                SynStreamFrame{id, 0, 0, 0, false, false, {{"streamtype", "data"}, {"port", "80"}}},
                valid)
            .ok());
    ASSERT_TRUE(writer.Write(DataFrame{id, id % 3 == 0, std::string(id * 7, 'x')}, valid).ok());
    ASSERT_TRUE(writer.Write(WindowUpdateFrame{id, id * 100}, valid).ok());
    ASSERT_TRUE(writer.Write(SettingsFrame{false, {{0, 7, id}}}, valid).ok());
  }
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    std::string input = valid;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    if (rng() % 4 == 0) {
      input.resize(rng() % input.size());
    }
    Drain(input, rng);
  }
}

}  // namespace
}  // namespace cricket::cri::streaming::spdy
