#include "cri/ids.h"

#include <sys/random.h>

#include <cstdio>

namespace cricket::cri {

std::string NewId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    }
  }
  std::string out(64, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof(bytes); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

Result<std::string> ResolveId(const std::vector<std::string>& ids, const std::string& prefix,
                              const std::string& kind) {
  if (prefix.empty()) {
    return Error(Code::kInvalidArgument, kind + " id is empty");
  }
  std::string found;
  for (const auto& id : ids) {
    if (id == prefix) {
      return id;
    }
    if (id.starts_with(prefix)) {
      if (!found.empty()) {
        return Error(Code::kInvalidArgument, kind + " id prefix " + prefix + " is ambiguous");
      }
      found = id;
    }
  }
  if (found.empty()) {
    return Error(Code::kNotFound, kind + " " + prefix + " not found");
  }
  return found;
}

}  // namespace cricket::cri
