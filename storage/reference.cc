#include "storage/reference.h"

#include <arpa/inet.h>

#include <string>
#include <vector>

namespace cricket::storage {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }

Error Invalid(std::string_view text, std::string_view why) {
  return Error(Code::kInvalidArgument,
               "invalid image reference \"" + std::string(text) + "\": " + std::string(why));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*, with upper case accepted when
// `allow_upper` so the caller can report "must be lowercase" rather than a syntax error.
bool IsPathComponent(std::string_view c, bool allow_upper) {
  auto alnum = [&](char ch) { return allow_upper ? IsAlnum(ch) : IsLowerAlnum(ch); };
  if (c.empty() || !alnum(c.front()) || !alnum(c.back())) {
    return false;
  }
  size_t i = 0;
  while (i < c.size()) {
    if (alnum(c[i])) {
      ++i;
      continue;
    }
    size_t sep_start = i;
    while (i < c.size() && !alnum(c[i])) {
      ++i;
    }
    std::string_view sep = c.substr(sep_start, i - sep_start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
      return false;
    }
  }
  return true;
}

// ([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])
bool IsDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) {
    return false;
  }
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') {
      return false;
    }
  }
  return true;
}

bool IsPort(std::string_view p) {
  if (p.empty() || p.size() > 5) {
    return false;
  }
  for (char c : p) {
    if (!IsDigit(c)) {
      return false;
    }
  }
  return true;
}

bool IsDomain(std::string_view d) {
  std::string_view host = d;
  std::string_view port;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string addr(d.substr(1, close - 1));
    in6_addr a6{};
    if (::inet_pton(AF_INET6, addr.c_str(), &a6) != 1) {
      return false;
    }
    std::string_view rest = d.substr(close + 1);
    if (rest.empty()) {
      return true;
    }
    return rest.front() == ':' && IsPort(rest.substr(1));
  }
  size_t colon = d.find(':');
  if (colon != std::string_view::npos) {
    host = d.substr(0, colon);
    port = d.substr(colon + 1);
    if (!IsPort(port)) {
      return false;
    }
  }
  for (std::string_view comp : Split(host, '.')) {
    if (!IsDomainComponent(comp)) {
      return false;
    }
  }
  return true;
}

bool IsTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength || !IsWordChar(t.front())) {
    return false;
  }
  for (char c : t) {
    if (!IsWordChar(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// A first component is a domain when it looks like one (docker's splitDockerDomain).
bool LooksLikeDomain(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
}

struct NameTagDigest {
  std::string_view name;
  std::string tag;
  std::string digest;
};

Result<NameTagDigest> SplitTagAndDigest(std::string_view text) {
  NameTagDigest out;
  std::string_view rest = text;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!ValidateDigestSyntax(digest).ok()) {
      return Invalid(text, "malformed digest");
    }
    out.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' unless that ':' belongs to the domain's port ("host:5000/x").
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!IsTag(tag)) {
      return Invalid(text, "malformed tag");
    }
    out.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  out.name = rest;
  return out;
}

}  // namespace

bool IsHex64(std::string_view text) {
  if (text.size() != 64) {
    return false;
  }
  for (char c : text) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

Result<void> ValidateDigestSyntax(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error(Code::kInvalidArgument, "invalid digest \"" + std::string(digest) + "\"");
  }
  std::string_view algo = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  // algorithm := component ( [+._-] component )*, component := [A-Za-z][A-Za-z0-9]*
  bool want_component = true;
  for (char c : algo) {
    if (want_component) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        return Error(Code::kInvalidArgument,
                     "invalid digest algorithm in \"" + std::string(digest) + "\"");
      }
      want_component = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      want_component = true;
    } else if (!IsAlnum(c)) {
      return Error(Code::kInvalidArgument,
                   "invalid digest algorithm in \"" + std::string(digest) + "\"");
    }
  }
  if (want_component) {
    return Error(Code::kInvalidArgument,
                 "invalid digest algorithm in \"" + std::string(digest) + "\"");
  }
  if (hex.size() < 32) {
    return Error(Code::kInvalidArgument, "digest \"" + std::string(digest) + "\" is too short");
  }
  for (char c : hex) {
    if (!IsHexDigit(c)) {
      return Error(Code::kInvalidArgument, "invalid hex in digest \"" + std::string(digest) + "\"");
    }
  }
  if (algo == "sha256" && hex.size() != 64) {
    return Error(Code::kInvalidArgument,
                 "sha256 digest \"" + std::string(digest) + "\" must have 64 hex characters");
  }
  return Ok();
}

Result<Reference> ParseReference(std::string_view text) {
  if (text.empty()) {
    return Error(Code::kInvalidArgument, "invalid image reference: empty");
  }
  if (IsHex64(text)) {
    return Invalid(text, "a 64-character hex string is an image id, not a reference");
  }
  CR_ASSIGN_OR_RETURN(NameTagDigest split, SplitTagAndDigest(text));
  Reference ref;
  ref.tag_ = std::move(split.tag);
  ref.digest_ = std::move(split.digest);
  std::string_view rest = split.name;
  if (rest.empty()) {
    return Invalid(text, "missing repository name");
  }
  if (rest.size() > kMaxNameLength) {
    return Invalid(text, "repository name is longer than 255 characters");
  }
  std::vector<std::string_view> parts = Split(rest, '/');
  size_t first_path = 0;
  if (parts.size() > 1 && LooksLikeDomain(parts[0])) {
    if (!IsDomain(parts[0])) {
      return Invalid(text, "malformed domain");
    }
    ref.domain_ = std::string(parts[0]);
    first_path = 1;
  } else {
    ref.domain_ = std::string(kDefaultDomain);
  }
  for (size_t i = first_path; i < parts.size(); ++i) {
    if (!IsPathComponent(parts[i], /*allow_upper=*/false)) {
      if (IsPathComponent(parts[i], /*allow_upper=*/true)) {
        return Invalid(text, "repository name must be lowercase");
      }
      return Invalid(text, "malformed path component \"" + std::string(parts[i]) + "\"");
    }
    if (!ref.path_.empty()) {
      ref.path_ += '/';
    }
    ref.path_ += parts[i];
  }
  if (ref.domain_ == kLegacyDefaultDomain) {
    ref.domain_ = std::string(kDefaultDomain);
  }
  if (ref.domain_ == kDefaultDomain && ref.path_.find('/') == std::string::npos) {
    ref.path_ = "library/" + ref.path_;
  }
  if (ref.domain_.size() + 1 + ref.path_.size() > kMaxNameLength) {
    return Invalid(text, "repository name is longer than 255 characters");
  }
  if (ref.tag_.empty() && ref.digest_.empty()) {
    ref.tag_ = "latest";
  }
  return ref;
}

std::string Reference::String() const {
  std::string out = Name();
  if (!tag_.empty()) {
    out += ":" + tag_;
  }
  if (!digest_.empty()) {
    out += "@" + digest_;
  }
  return out;
}

std::string Reference::TagString() const { return tag_.empty() ? "" : Name() + ":" + tag_; }

std::string Reference::DigestString() const {
  return digest_.empty() ? "" : Name() + "@" + digest_;
}

Reference Reference::WithDigest(std::string digest) const {
  Reference out = *this;
  out.tag_.clear();
  out.digest_ = std::move(digest);
  return out;
}

}  // namespace cricket::storage
