#pragma once

// SPDY/3 header blocks (spec section 2.6.10): a count, then length-prefixed lowercase names and
// values (several values of one name joined by NUL), zlib-compressed with the SPDY/3 dictionary
// in one zlib stream per direction per connection. Each block ends with a sync flush, so the
// compressor and decompressor of a connection must see every block in order.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace cricket::cri::streaming::spdy {

// Name/value pairs in wire order. Names are lowercase on the wire.
using HeaderBlock = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` (case-insensitive), or empty when absent.
std::string_view FindHeader(const HeaderBlock& headers, std::string_view name);

// Compresses header blocks for one direction of one connection. Not thread-safe.
class HeaderCompressor {
 public:
  HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;
  ~HeaderCompressor();

  // Appends the compressed block to `out`. Names are lowercased. kInternal if zlib fails.
  Result<void> Compress(const HeaderBlock& headers, std::string& out);

 private:
  z_stream zs_{};
  bool ready_ = false;
};

// Decompresses header blocks for one direction of one connection. Not thread-safe. After an
// error the zlib context is lost, so the connection must be closed (a session error).
class HeaderDecompressor {
 public:
  // `max_block_bytes` bounds the uncompressed size of one block (a zlib bomb guard).
  explicit HeaderDecompressor(size_t max_block_bytes = 256 * 1024);
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;
  ~HeaderDecompressor();

  // kInvalidArgument for corrupt compression, a too large block, a malformed pair list, an
  // empty or uppercase name, or a duplicate name (spec 2.6.10).
  Result<HeaderBlock> Decompress(std::string_view compressed);

 private:
  z_stream zs_{};
  bool ready_ = false;
  size_t max_block_bytes_;
};

// The uncompressed encoding, exposed for tests and for the decompressor.
std::string EncodeHeaderPairs(const HeaderBlock& headers);
Result<HeaderBlock> DecodeHeaderPairs(std::string_view raw);

}  // namespace cricket::cri::streaming::spdy
