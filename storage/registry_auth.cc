#include "storage/registry_auth.h"

#include <nlohmann/json.hpp>

namespace cricket::storage {

std::string RegistryAuth::HeaderFor(const std::string& host) const {
  auto it = headers_.find(host);
  if (it != headers_.end()) {
    return it->second;
  }
  if (!auth_.registry_token.empty()) {
    return "Authorization: Bearer " + auth_.registry_token;
  }
  return "";
}

Result<std::string> RegistryAuth::UserPassword() const {
  if (!auth_.username.empty() || !auth_.password.empty()) {
    return auth_.username + ":" + auth_.password;
  }
  if (!auth_.auth.empty()) {
    auto decoded = Base64Decode(auth_.auth);
    if (!decoded.ok() || decoded->find(':') == std::string::npos) {
      return Error(Code::kInvalidArgument, "auth.auth is not base64 of user:password");
    }
    return *decoded;
  }
  return std::string();
}

Result<std::string> RegistryAuth::FetchToken(const Endpoint& endpoint,
                                             const AuthChallenge& challenge,
                                             const std::string& user_password, Deadline deadline) {
  std::string realm = challenge.Param("realm");
  size_t scheme_end = realm.find("://");
  if (scheme_end == std::string::npos) {
    return Error(Code::kUnauthenticated, "registry " + endpoint.host + " sent no token realm");
  }
  std::string realm_host = realm.substr(scheme_end + 3);
  realm_host = realm_host.substr(0, realm_host.find('/'));
  if (realm.rfind("http://", 0) == 0 && !IsLoopbackHost(realm_host) && !endpoint.skip_tls_verify) {
    return Error(Code::kUnauthenticated,
                 "token realm " + realm + " of registry " + endpoint.host + " uses plain HTTP");
  }
  std::string scope = challenge.Param("scope");
  if (scope.empty()) {
    scope = "repository:" + repository_path_ + ":pull";
  }
  std::string service = challenge.Param("service");
  HttpRequest req;
  req.deadline = deadline;
  req.skip_tls_verify = endpoint.skip_tls_verify;
  if (!auth_.identity_token.empty()) {
    // OAuth2 refresh-token grant (distribution token spec, "oauth").
    req.method = "POST";
    req.url = realm;
    req.headers = {"Content-Type: application/x-www-form-urlencoded"};
    req.body = "grant_type=refresh_token&client_id=cricket&refresh_token=" +
               UrlEncode(auth_.identity_token) + "&service=" + UrlEncode(service) +
               "&scope=" + UrlEncode(scope);
  } else {
    req.url =
        realm + (realm.find('?') == std::string::npos ? "?" : "&") + "scope=" + UrlEncode(scope);
    if (!service.empty()) {
      req.url += "&service=" + UrlEncode(service);
    }
    req.basic_auth = user_password;
  }
  CR_ASSIGN_OR_RETURN(HttpResponse resp, http_.Do(req, nullptr, 1 << 20));
  if (resp.status == 401 || resp.status == 403) {
    return Error(Code::kUnauthenticated, "token service " + realm_host + " of registry " +
                                             endpoint.host + " rejected the credentials");
  }
  if (resp.status != 200) {
    return Error(Code::kUnavailable,
                 "token service " + realm_host + " answered HTTP " + std::to_string(resp.status));
  }
  auto json = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      auto it = json.find(key);
      if (it != json.end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  return Error(Code::kUnauthenticated, "token service " + realm_host + " returned no token");
}

Result<void> RegistryAuth::Answer(const Endpoint& endpoint, const std::string& www_authenticate,
                                  Deadline deadline) {
  auto challenge = ParseAuthChallenge(www_authenticate);
  if (!challenge.ok()) {
    return Error(
        Code::kUnauthenticated,
        "registry " + endpoint.host + " requires authentication with an unreadable challenge");
  }
  CR_ASSIGN_OR_RETURN(std::string user_password, UserPassword());
  if (challenge->scheme == "basic") {
    if (user_password.empty()) {
      return Error(Code::kUnauthenticated, "registry " + endpoint.host + " requires credentials");
    }
    headers_[endpoint.host] = "Authorization: Basic " + Base64Encode(user_password);
    return Ok();
  }
  if (challenge->scheme != "bearer") {
    return Error(Code::kUnauthenticated, "registry " + endpoint.host +
                                             " uses unsupported auth scheme " + challenge->scheme);
  }
  CR_ASSIGN_OR_RETURN(std::string token, FetchToken(endpoint, *challenge, user_password, deadline));
  headers_[endpoint.host] = "Authorization: Bearer " + token;
  return Ok();
}

}  // namespace cricket::storage
