// SPDY/3.1 as a kubectl (or anyone reaching the streaming port) sends it: the frame parser fed
// in chunks of a size the input's first byte picks (frames split across reads), and the rest
// also as one header block, compressed and raw.

#include <cstdint>
#include <string_view>

#include "cri/streaming/spdy_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cricket::cri::streaming::spdy;
  if (size == 0) {
    return 0;
  }
  size_t chunk = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  FrameParser parser(64 * 1024);
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    parser.Feed(bytes.substr(at, chunk));
    for (;;) {
      auto next = parser.Next();
      if (!next.ok() || !next->has_value()) {
        break;
      }
    }
  }
  HeaderDecompressor decompressor(64 * 1024);
  (void)decompressor.Decompress(bytes);
  (void)DecodeHeaderPairs(bytes);
  return 0;
}
