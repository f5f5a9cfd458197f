#include "cri/streaming/spdy_header_block.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "cri/streaming/spdy_dictionary.h"

namespace cricket::cri::streaming::spdy {

namespace {

void AppendU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

bool ReadU32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) {
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  in.remove_prefix(4);
  return true;
}

bool ReadString(std::string_view& in, std::string& s) {
  uint32_t len = 0;
  if (!ReadU32(in, len) || in.size() < len) {
    return false;
  }
  s.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const Bytef* DictBytes() { return reinterpret_cast<const Bytef*>(HeaderDictionary().data()); }

}  // namespace

std::string_view FindHeader(const HeaderBlock& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && Lower(n) == Lower(name)) {
      std::string_view value = v;
      return value.substr(0, value.find('\0'));
    }
  }
  return {};
}

std::string EncodeHeaderPairs(const HeaderBlock& headers) {
  std::string raw;
  AppendU32(raw, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    AppendU32(raw, static_cast<uint32_t>(name.size()));
    raw += Lower(name);
    AppendU32(raw, static_cast<uint32_t>(value.size()));
    raw += value;
  }
  return raw;
}

Result<HeaderBlock> DecodeHeaderPairs(std::string_view raw) {
  uint32_t count = 0;
  if (!ReadU32(raw, count)) {
    return Error(Code::kInvalidArgument, "spdy header block: truncated pair count");
  }
  // Each pair needs at least 8 bytes of lengths, so a huge count fails here before allocating.
  if (count > raw.size() / 8) {
    return Error(Code::kInvalidArgument, "spdy header block: pair count exceeds block");
  }
  HeaderBlock headers;
  headers.reserve(count);
  std::set<std::string, std::less<>> seen;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    std::string value;
    if (!ReadString(raw, name) || !ReadString(raw, value)) {
      return Error(Code::kInvalidArgument, "spdy header block: truncated pair");
    }
    if (name.empty() || name != Lower(name)) {
      return Error(Code::kInvalidArgument, "spdy header block: empty or uppercase name");
    }
    if (!seen.insert(name).second) {
      return Error(Code::kInvalidArgument, "spdy header block: duplicate name " + name);
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  if (!raw.empty()) {
    return Error(Code::kInvalidArgument, "spdy header block: trailing bytes");
  }
  return headers;
}

HeaderCompressor::HeaderCompressor() {
  ready_ =
      deflateInit(&zs_, Z_DEFAULT_COMPRESSION) == Z_OK &&
      deflateSetDictionary(&zs_, DictBytes(), static_cast<uInt>(HeaderDictionary().size())) == Z_OK;
}

HeaderCompressor::~HeaderCompressor() { deflateEnd(&zs_); }

Result<void> HeaderCompressor::Compress(const HeaderBlock& headers, std::string& out) {
  if (!ready_) {
    return Error(Code::kInternal, "spdy header compressor failed to initialise");
  }
  std::string raw = EncodeHeaderPairs(headers);
  zs_.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs_.avail_in = static_cast<uInt>(raw.size());
  char chunk[4096];
  do {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    int rc = deflate(&zs_, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      ready_ = false;
      return Error(Code::kInternal, "spdy header compression failed");
    }
    out.append(chunk, sizeof(chunk) - zs_.avail_out);
  } while (zs_.avail_out == 0);
  return Ok();
}

HeaderDecompressor::HeaderDecompressor(size_t max_block_bytes) : max_block_bytes_(max_block_bytes) {
  ready_ = inflateInit(&zs_) == Z_OK;
}

HeaderDecompressor::~HeaderDecompressor() { inflateEnd(&zs_); }

Result<HeaderBlock> HeaderDecompressor::Decompress(std::string_view compressed) {
  if (!ready_) {
    return Error(Code::kInvalidArgument, "spdy header decompressor is unusable after an error");
  }
  ready_ = false;  // set again only on success: a failed block leaves the context undefined
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs_.avail_in = static_cast<uInt>(compressed.size());
  std::string raw;
  char chunk[4096];
  for (;;) {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    int rc = inflate(&zs_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      if (inflateSetDictionary(&zs_, DictBytes(), static_cast<uInt>(HeaderDictionary().size())) !=
          Z_OK) {
        return Error(Code::kInvalidArgument, "spdy header block: wrong zlib dictionary");
      }
      continue;
    }
    // Z_STREAM_END is an error too: SPDY never ends the connection's zlib stream.
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Error(Code::kInvalidArgument, "spdy header block: corrupt compressed data");
    }
    raw.append(chunk, sizeof(chunk) - zs_.avail_out);
    if (raw.size() > max_block_bytes_) {
      return Error(Code::kInvalidArgument, "spdy header block: too large");
    }
    if (zs_.avail_out != 0) {
      break;  // zlib had room left, so it consumed and flushed everything it was given
    }
  }
  if (zs_.avail_in != 0) {
    return Error(Code::kInvalidArgument, "spdy header block: trailing compressed bytes");
  }
  CR_ASSIGN_OR_RETURN(HeaderBlock headers, DecodeHeaderPairs(raw));
  ready_ = true;
  return headers;
}

}  // namespace cricket::cri::streaming::spdy
