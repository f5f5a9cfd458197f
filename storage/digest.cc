#include "storage/digest.h"

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

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CR_CHECK(ctx_ != nullptr);
  Reset();
}

void Sha256::Reset() { CR_CHECK(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1); }

void Sha256::Update(std::string_view data) {
  CR_CHECK(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1);
}

std::string Sha256::Final() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CR_CHECK(EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
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
