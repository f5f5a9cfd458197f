#pragma once

// Parsing of WWW-Authenticate challenges (RFC 7235) as registries send them:
//   Bearer
//   realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//   Basic realm="Registry Realm"
// Pure functions, thread-safe.

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::storage {

struct AuthChallenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names in lower case

  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

// kInvalidArgument for a header that is not a challenge.
Result<AuthChallenge> ParseAuthChallenge(std::string_view header);

// Standard base64 (RFC 4648) with padding; for "user:password" of basic auth.
std::string Base64Encode(std::string_view data);
// kInvalidArgument for malformed input.
Result<std::string> Base64Decode(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view text);

}  // namespace cricket::storage
