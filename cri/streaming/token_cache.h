#pragma once

// TokenCache: single-use, expiring, unguessable tokens that stand for a streaming request
// (CRI: the Exec/Attach/PortForward RPCs return a URL, and only that URL may start the session).
// Thread-safe: tokens are minted on gRPC threads and consumed on the server's I/O thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "cri/streaming/requests.h"

namespace cricket::cri::streaming {

class TokenCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `ttl`: how long a token stays valid. `max_tokens`: outstanding tokens before Insert refuses.
  // `clock` is injectable for tests.
  TokenCache(std::chrono::milliseconds ttl, size_t max_tokens = 1000, Clock clock = nullptr);

  // Stores `request` under a fresh random token (32 hex digits from getrandom).
  // kResourceExhausted when max_tokens are outstanding; kInternal if no randomness.
  Result<std::string> Insert(StreamingRequest request);

  // Returns and removes the request; std::nullopt when unknown, used or expired.
  std::optional<StreamingRequest> Consume(const std::string& token);

 private:
  struct Entry {
    StreamingRequest request;
    std::chrono::steady_clock::time_point expiry;
  };
  void DropExpiredLocked(std::chrono::steady_clock::time_point now);

  std::chrono::milliseconds ttl_;
  size_t max_tokens_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // Guarded by mu_.
};

}  // namespace cricket::cri::streaming
