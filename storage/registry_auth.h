#pragma once

// RegistryAuth: answers a registry's 401 challenge for one repository and keeps the resulting
// Authorization header per endpoint host.
//   Bearer: GET <realm>?service=<service>&scope=repository:<path>:pull, with basic credentials
//           when the user gave some, and send the returned token; with a CRI identity_token,
//           POST the OAuth2 refresh_token grant to <realm> instead.
//   Basic:  send the user's credentials.
// CRI registry_token is sent as a bearer token right away. Credentials are never logged.
// Not thread-safe: one per pull.

#include <map>
#include <string>

#include "common/result.h"
#include "storage/auth_challenge.h"
#include "storage/http_client.h"
#include "storage/registry_config.h"

namespace cricket::storage {

class RegistryAuth {
 public:
  RegistryAuth(const HttpClient& http, AuthConfig auth, std::string repository_path)
      : http_(http), auth_(std::move(auth)), repository_path_(std::move(repository_path)) {}

  // The Authorization header line for `host` ("" when none is known yet).
  std::string HeaderFor(const std::string& host) const;
  // Handles a 401 from `endpoint` carrying `www_authenticate`. kUnauthenticated when the
  // challenge needs credentials the user did not give or the token service refuses them.
  Result<void> Answer(const Endpoint& endpoint, const std::string& www_authenticate,
                      Deadline deadline);

 private:
  // "user:password" from username/password or the base64 `auth` field; "" when none.
  Result<std::string> UserPassword() const;
  // Asks the token service named by a bearer challenge for a token.
  Result<std::string> FetchToken(const Endpoint& endpoint, const AuthChallenge& challenge,
                                 const std::string& user_password, Deadline deadline);

  const HttpClient& http_;
  AuthConfig auth_;
  std::string repository_path_;
  std::map<std::string, std::string> headers_;  // host -> "Authorization: ..."
};

}  // namespace cricket::storage
