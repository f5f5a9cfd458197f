#pragma once

// HttpClient: one HTTP request at a time over libcurl, for the registry client. Each request
// runs in a cricket-fetch process (fetch_main.cc says why), which streams the answer back.
//
// Bodies either stream to a sink (blobs: never held in memory) or are collected up to a limit
// (manifests, tokens, error bodies). Redirects are followed for http and https only, and curl
// drops our Authorization header when a redirect leaves the original host (blob redirects to
// object storage). Deadlines abort the transfer with kDeadlineExceeded.
//
// Thread-safe: every call runs its own cricket-fetch.

#include <cstddef>
#include <string>

#include "common/result.h"
#include "storage/http_message.h"

namespace cricket::storage {

class HttpClient {
 public:
  // `fetch_binary`: the cricket-fetch executable; "" finds it beside this executable (see
  // common/helper_binary.h). When it cannot be found, Do() says so (kFailedPrecondition).
  explicit HttpClient(std::string fetch_binary = "");

  // Performs the request. Transport failures: kUnavailable (connection refused, reset, timeouts
  // of a stalled link), kDeadlineExceeded (past `deadline`). HTTP error statuses are not errors
  // here: the caller reads `status`. Without a sink the body is collected up to
  // `max_body_bytes` (kResourceExhausted beyond).
  Result<HttpResponse> Do(const HttpRequest& request, const BodySink& sink = nullptr,
                          size_t max_body_bytes = 4 << 20) const;

 private:
  std::string fetch_binary_;
  std::string missing_;  // why fetch_binary_ is empty
};

}  // namespace cricket::storage
