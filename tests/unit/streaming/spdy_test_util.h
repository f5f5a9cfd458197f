#pragma once

// Helpers for building SPDY frames byte by byte, as the spec draws them, independent of the codec.

#include <zlib.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "cri/streaming/spdy_dictionary.h"

namespace cricket::cri::streaming::spdy::testing {

inline std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

inline std::string U32(uint32_t v) {
  return Bytes({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xff),
                static_cast<int>((v >> 8) & 0xff), static_cast<int>(v & 0xff)});
}

// Compresses `raw` with plain zlib and the SPDY/3 dictionary, one sync-flushed block.
inline std::string ZlibWithDictionary(const std::string& raw) {
  z_stream zs{};
  deflateInit(&zs, Z_BEST_COMPRESSION);
  auto dict = HeaderDictionary();
  deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dict.data()),
                       static_cast<uInt>(dict.size()));
  std::string out(raw.size() + 256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_SYNC_FLUSH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace cricket::cri::streaming::spdy::testing
