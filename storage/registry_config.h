#pragma once

// Registry settings (filled from config.toml by the daemon) and the endpoints a pull tries.
//
//   [registry."registry.k8s.io"]  mirrors = ["http://localhost:5000"]  mirror_only = true
//
// For each registry: its mirrors in order, then the origin — unless `mirror_only` (containerd's
// hosts.toml `server` override), when the origin is never contacted. Plain HTTP is used for the
// origin only when the registry is loopback (localhost, 127.0.0.0/8, [::1]) or marked
// `insecure`; an http:// mirror is accepted only on a loopback host or when that mirror's host
// is itself marked insecure.

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::storage {

struct RegistryHostConfig {
  std::vector<std::string>
      mirrors;  // endpoint URLs: "https://mirror.example", "http://localhost:5000"
  bool mirror_only = false;
  bool insecure = false;  // plain HTTP allowed, TLS verification skipped
};

struct RegistryConfig {
  // Keyed by the domain as it appears in references: "docker.io", "localhost:5000".
  std::map<std::string, RegistryHostConfig> hosts;
};

// Credentials from the CRI AuthConfig.
struct AuthConfig {
  std::string username;
  std::string password;
  std::string auth;            // base64("user:password")
  std::string identity_token;  // OAuth2 refresh token
  std::string registry_token;  // a bearer token to send as is

  bool empty() const {
    return username.empty() && password.empty() && auth.empty() && identity_token.empty() &&
           registry_token.empty();
  }
};

struct Endpoint {
  std::string base_url;  // "https://registry-1.docker.io", "http://127.0.0.1:5000"
  std::string host;      // "127.0.0.1:5000"
  bool is_mirror = false;
  bool skip_tls_verify = false;
};

// True for localhost, 127.0.0.0/8 and [::1], with or without a port.
bool IsLoopbackHost(const std::string& host_port);

// The endpoints to try for `domain`, in order. kInvalidArgument for a malformed mirror URL or a
// plain-HTTP mirror that is neither loopback nor insecure; kFailedPrecondition when a
// mirror-only registry has no usable mirror.
Result<std::vector<Endpoint>> ResolveEndpoints(const RegistryConfig& config,
                                               const std::string& domain);

}  // namespace cricket::storage
