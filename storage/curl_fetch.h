#pragma once

// One HTTP request with libcurl, in this process: what cricket-fetch runs for HttpClient (see
// http_client.h for the contract: statuses are not errors, transport failures are kUnavailable,
// a passed deadline kDeadlineExceeded, a sink's error aborts the transfer and is returned).

#include <cstddef>

#include "common/result.h"
#include "storage/http_message.h"

namespace cricket::storage {

Result<HttpResponse> CurlFetch(const HttpRequest& request, const BodySink& sink,
                               size_t max_body_bytes);

}  // namespace cricket::storage
