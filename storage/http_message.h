#pragma once

// The request and response types of an HTTP exchange, shared by HttpClient (http_client.h), the
// pipe protocol to its cricket-fetch helper (fetch_protocol.h) and the helper's libcurl code
// (curl_fetch.h). Plain data; the contract of each field is the HttpClient's.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket::storage {

using Deadline = std::chrono::steady_clock::time_point;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST or PUT
  std::string body;            // POST and PUT, sent as given (set Content-Type in headers)
  // PUT only: when >= 0, the body is `upload_size` bytes read from this fd (from offset 0)
  // instead of `body`, streamed and never held in memory. The caller keeps the fd open.
  int upload_fd = -1;
  int64_t upload_size = 0;
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // user:password for basic authentication, sent only to the request's host.
  std::string basic_auth;
  // Skip TLS certificate verification (registries marked insecure).
  bool skip_tls_verify = false;
  // Range: bytes=<range_from>- when > 0.
  int64_t range_from = 0;
  Deadline deadline = Deadline::max();
  // Abort when fewer than this many bytes/s arrive for `low_speed_seconds` (a stalled link).
  long low_speed_bytes = 1;
  long low_speed_seconds = 30;
};

struct HttpResponse {
  long status = 0;
  // Header names in lower case; the headers of the final response after redirects.
  std::multimap<std::string, std::string> headers;
  std::string body;  // collected only when no sink was given
  std::string effective_url;

  // The first value of a header (name in lower case), or "".
  std::string Header(const std::string& name) const;
};

// Receives the body of a response in chunks, with the status and headers of that response. An
// error aborts the transfer and is returned from HttpClient::Do() (and CurlFetch()).
using BodySink = std::function<Result<void>(const HttpResponse& head, std::string_view chunk)>;

}  // namespace cricket::storage
