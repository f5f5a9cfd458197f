#pragma once

// Content digests ("sha256:<64 hex>") and a streaming SHA-256 (OpenSSL). Cricket stores and
// verifies sha256 only, the algorithm every registry and the OCI image-spec require.

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::storage {

// The 64 hex characters of a "sha256:<hex>" digest. kInvalidArgument for malformed digests,
// kUnimplemented for other algorithms.
Result<std::string> Sha256Hex(std::string_view digest);

// Incremental SHA-256. Move-only; not thread-safe.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // "sha256:<hex>" of everything passed to Update. Leaves the object unusable until Reset().
  std::string Final();
  void Reset();

 private:
  struct State;  // OpenSSL's SHA256_CTX, kept out of this header
  struct StateFree {
    void operator()(State* state) const;
  };
  std::unique_ptr<State, StateFree> state_;
};

// "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);

}  // namespace cricket::storage
