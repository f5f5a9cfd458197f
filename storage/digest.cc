// OpenSSL's SHA256_* functions, not EVP: EVP's first use initialises the library (reads
// openssl.cnf, loads the default provider and its algorithm tables), about 1.2 MiB of code that
// cricketd would then keep resident for one hash function. The SHA256_* functions are the same
// implementation (SHA-NI/AVX2 picked at start), called directly; OpenSSL 3 marks them
// deprecated, hence the compatibility level.
#define OPENSSL_API_COMPAT 10101
#include "storage/digest.h"

#include <openssl/sha.h>

#include "common/check.h"
#include "storage/reference.h"

namespace cricket::storage {

Result<std::string> Sha256Hex(std::string_view digest) {
  CR_RETURN_IF_ERROR(ValidateDigestSyntax(digest));
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.substr(0, kPrefix.size()) != kPrefix) {
    return Error(Code::kUnimplemented,
                 "unsupported digest algorithm in \"" + std::string(digest) + "\"");
  }
  std::string hex(digest.substr(kPrefix.size()));
  if (!IsHex64(hex)) {
    return Error(Code::kInvalidArgument, "sha256 digest \"" + std::string(digest) +
                                             "\" must be 64 lowercase hex characters");
  }
  return hex;
}

struct Sha256::State {
  SHA256_CTX ctx;
};

void Sha256::StateFree::operator()(State* state) const { delete state; }

Sha256::Sha256() : state_(new State) { Reset(); }

void Sha256::Reset() { CR_CHECK(SHA256_Init(&state_->ctx) == 1); }

void Sha256::Update(std::string_view data) {
  CR_CHECK(SHA256_Update(&state_->ctx, data.data(), data.size()) == 1);
}

std::string Sha256::Final() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  CR_CHECK(SHA256_Final(md, &state_->ctx) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Final();
}

}  // namespace cricket::storage
