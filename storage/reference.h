#pragma once

// Image references in the docker grammar (github.com/distribution/reference):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component ( "/" path-component )*
//   domain     := host [ ":" port ]      host := domain-name | IPv4 | "[" IPv6 "]"
//   path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest     := algorithm ":" hex      (hex of 32 or more characters)
//
// ParseReference also applies the familiar normalisation: a first component without '.', ':'
// and other than "localhost" is a path on docker.io; single-component docker.io names get the
// "library/" prefix; "index.docker.io" becomes "docker.io"; a reference with neither tag nor
// digest gets the tag "latest". Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::storage {

class Reference {
 public:
  // "docker.io", "registry.k8s.io", "localhost:5000", "[::1]:5000".
  const std::string& domain() const { return domain_; }
  // "library/busybox", "pause".
  const std::string& path() const { return path_; }
  // Empty when the reference carries only a digest.
  const std::string& tag() const { return tag_; }
  // "sha256:<hex>", or empty.
  const std::string& digest() const { return digest_; }

  // "docker.io/library/busybox".
  std::string Name() const { return domain_ + "/" + path_; }
  // "docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:..." or both.
  std::string String() const;
  // Name():tag, or empty when there is no tag.
  std::string TagString() const;
  // Name()@digest, or empty when there is no digest.
  std::string DigestString() const;
  // The same name with the given digest and no tag (a repo digest of a pulled image).
  Reference WithDigest(std::string digest) const;

  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  friend Result<Reference> ParseReference(std::string_view text);
  std::string domain_;
  std::string path_;
  std::string tag_;
  std::string digest_;
};

// Parses and normalises `text`. kInvalidArgument naming the problem and the reference when it
// does not match the grammar, has upper-case letters in the repository path, is longer than 255
// characters in its name, or is a bare 64-character hex string (an image id, not a reference).
Result<Reference> ParseReference(std::string_view text);

// Checks "algorithm:hex" as the grammar allows it; kInvalidArgument otherwise.
Result<void> ValidateDigestSyntax(std::string_view digest);

// True for a 64-character lowercase hex string (an image id without its "sha256:" prefix).
bool IsHex64(std::string_view text);

}  // namespace cricket::storage
