#include "storage/curl_fetch.h"

#include <unistd.h>

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <memory>
#include <mutex>

namespace cricket::storage {
namespace {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Transfer {
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  size_t max_body_bytes = 0;
  Deadline deadline;
  CURL* curl = nullptr;
  std::unique_ptr<Error> error;  // set by a callback that aborted the transfer
};

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

size_t OnHeader(char* data, size_t size, size_t count, void* opaque) {
  auto* t = static_cast<Transfer*>(opaque);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (after a redirect or 100-continue)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->response->headers.emplace(std::move(name), Trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* opaque) {
  auto* t = static_cast<Transfer*>(opaque);
  size_t n = size * count;
  if (t->sink != nullptr && *t->sink) {
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->response->status);
    auto r = (*t->sink)(*t->response, std::string_view(data, n));
    if (!r.ok()) {
      t->error = std::make_unique<Error>(std::move(r).error());
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    return n;
  }
  if (t->response->body.size() + n > t->max_body_bytes) {
    t->error = std::make_unique<Error>(
        Code::kResourceExhausted,
        "response body is larger than " + std::to_string(t->max_body_bytes) + " bytes");
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

struct Upload {
  int fd = -1;
  int64_t offset = 0;
  int64_t size = 0;
  std::string_view body;  // when fd < 0
};

size_t OnRead(char* buffer, size_t size, size_t count, void* opaque) {
  auto* u = static_cast<Upload*>(opaque);
  size_t want = std::min<size_t>(size * count, static_cast<size_t>(u->size - u->offset));
  if (want == 0) {
    return 0;
  }
  if (u->fd < 0) {
    u->body.copy(buffer, want, static_cast<size_t>(u->offset));
    u->offset += static_cast<int64_t>(want);
    return want;
  }
  for (;;) {
    ssize_t n = ::pread(u->fd, buffer, want, u->offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return CURL_READFUNC_ABORT;  // a file that shrank or failed: never send a short body
    }
    u->offset += n;
    return static_cast<size_t>(n);
  }
}

int OnProgress(void* opaque, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(opaque);
  if (std::chrono::steady_clock::now() >= t->deadline) {
    t->error = std::make_unique<Error>(Code::kDeadlineExceeded, "deadline exceeded");
    return 1;
  }
  return 0;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<HttpResponse> CurlFetch(const HttpRequest& request, const BodySink& sink,
                               size_t max_body_bytes) {
  InitCurlOnce();
  auto now = std::chrono::steady_clock::now();
  if (now >= request.deadline) {
    return Error(Code::kDeadlineExceeded, "deadline exceeded before " + request.url);
  }
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) {
    return Error(Code::kResourceExhausted, "create curl handle");
  }
  HttpResponse response;
  Transfer t;
  t.response = &response;
  t.sink = &sink;
  t.max_body_bytes = max_body_bytes;
  t.deadline = request.deadline;
  t.curl = curl.get();

  Upload upload;
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (const std::string& h : request.headers) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, request.low_speed_bytes);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, request.low_speed_seconds);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (request.deadline != Deadline::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(request.deadline - now);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, left.count())));
  }
  if (request.skip_tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
  } else if (request.method == "PUT") {
    upload.fd = request.upload_fd;
    upload.body = request.body;
    upload.size = request.upload_fd >= 0 ? request.upload_size
                                         : static_cast<int64_t>(request.body.size());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.size));
    // No "Expect: 100-continue" round trip before the body.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  }
  if (!request.basic_auth.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, request.basic_auth.c_str());
  }
  std::string range;
  if (request.range_from > 0) {
    range = std::to_string(request.range_from) + "-";
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }

  CURLcode rc = curl_easy_perform(c);
  if (t.error != nullptr) {
    if (t.error->code() == Code::kDeadlineExceeded) {
      return Error(Code::kDeadlineExceeded, "deadline exceeded while fetching " + request.url);
    }
    return *t.error;
  }
  if (rc == CURLE_OPERATION_TIMEDOUT && std::chrono::steady_clock::now() >= request.deadline) {
    return Error(Code::kDeadlineExceeded, "deadline exceeded while fetching " + request.url);
  }
  if (rc != CURLE_OK) {
    return Error(Code::kUnavailable, "fetch " + request.url + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective != nullptr) {
    response.effective_url = effective;
  }
  return response;
}

}  // namespace cricket::storage
