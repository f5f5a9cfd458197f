#include "cri/streaming/token_cache.h"

#include <sys/random.h>

#include <cerrno>

namespace cricket::cri::streaming {

TokenCache::TokenCache(std::chrono::milliseconds ttl, size_t max_tokens, Clock clock)
    : ttl_(ttl), max_tokens_(max_tokens), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] { return std::chrono::steady_clock::now(); };
  }
}

Result<std::string> TokenCache::Insert(StreamingRequest request) {
  unsigned char raw[16];
  ssize_t n = ::getrandom(raw, sizeof(raw), 0);
  if (n != static_cast<ssize_t>(sizeof(raw))) {
    return Error::FromErrno(n < 0 ? errno : EIO, "read random bytes for a streaming token");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : raw) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 0xf]);
  }
  auto now = clock_();
  std::lock_guard lock(mu_);
  DropExpiredLocked(now);
  if (entries_.size() >= max_tokens_) {
    return Error(Code::kResourceExhausted, "too many outstanding streaming requests");
  }
  entries_[token] = Entry{std::move(request), now + ttl_};
  return token;
}

std::optional<StreamingRequest> TokenCache::Consume(const std::string& token) {
  auto now = clock_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (now >= entry.expiry) {
    return std::nullopt;
  }
  return std::move(entry.request);
}

void TokenCache::DropExpiredLocked(std::chrono::steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now >= it->second.expiry ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace cricket::cri::streaming
