#pragma once

// Short, stable kernel-object names derived from a sandbox id (interface names are limited to
// 15 bytes, iptables chains to 28).

#include <cstdint>
#include <string>
#include <string_view>

namespace cricket::network {

// FNV-1a 64 of `id` as `hex_chars` lowercase hex digits (at most 16).
inline std::string ShortHash(std::string_view id, size_t hex_chars) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : id) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[hash & 0xf];
    hash >>= 4;
  }
  return out.substr(0, hex_chars);
}

// The host end of a pod's veth: "cr" + 12 hex digits (14 bytes).
inline std::string HostVethName(std::string_view sandbox_id) {
  return "cr" + ShortHash(sandbox_id, 12);
}

}  // namespace cricket::network
