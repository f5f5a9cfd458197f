#include "storage/registry_client.h"

#include <algorithm>
#include <charconv>
#include <thread>

#include "common/log.h"
#include "storage/digest.h"

namespace cricket::storage {
namespace {

constexpr int kManifestAttempts = 3;
constexpr int kBlobAttempts = 6;
constexpr size_t kMaxManifestBytes = 4 << 20;
constexpr size_t kMaxErrorBody = 4096;
constexpr auto kFirstBackoff = std::chrono::milliseconds(200);
constexpr auto kMaxBackoff = std::chrono::seconds(5);
constexpr auto kIngestPoll = std::chrono::milliseconds(50);

// Transient failures worth another attempt: transport errors and 5xx/429 answers.
bool IsTransient(const Error& e) { return e.code() == Code::kUnavailable; }

Error StatusError(long status, const std::string& what, const std::string& host) {
  std::string msg = what + ": registry " + host + " answered HTTP " + std::to_string(status);
  if (status == 404) {
    return Error(Code::kNotFound, what + " not found on registry " + host);
  }
  if (status == 401 || status == 403) {
    return Error(Code::kPermissionDenied, msg);
  }
  if (status == 429 || status >= 500) {
    return Error(Code::kUnavailable, msg);
  }
  return Error(Code::kFailedPrecondition, msg);
}

// Sleeps before attempt `attempt` (1-based), never past the deadline. False when there is no
// time left.
bool Backoff(int attempt, Deadline deadline) {
  auto wait = std::min<std::chrono::steady_clock::duration>(kFirstBackoff * (1 << (attempt - 1)),
                                                            kMaxBackoff);
  if (std::chrono::steady_clock::now() + wait >= deadline) {
    return false;
  }
  std::this_thread::sleep_for(wait);
  return true;
}

// "bytes <start>-<end>/<total>" -> start, or -1.
int64_t ContentRangeStart(const std::string& header) {
  size_t sp = header.find(' ');
  size_t dash = header.find('-');
  if (sp == std::string::npos || dash == std::string::npos || dash < sp) {
    return -1;
  }
  int64_t start = -1;
  auto [end, ec] = std::from_chars(header.data() + sp + 1, header.data() + dash, start);
  if (ec != std::errc() || end != header.data() + dash) {
    return -1;
  }
  return start;
}

}  // namespace

Result<std::unique_ptr<RegistrySession>> RegistrySession::Create(const RegistryConfig& config,
                                                                 const HttpClient& http,
                                                                 const Reference& ref,
                                                                 AuthConfig auth) {
  CR_ASSIGN_OR_RETURN(std::vector<Endpoint> endpoints, ResolveEndpoints(config, ref.domain()));
  return std::unique_ptr<RegistrySession>(
      new RegistrySession(http, ref, std::move(endpoints), std::move(auth)));
}

std::vector<size_t> RegistrySession::EndpointOrder() const {
  std::vector<size_t> order{preferred_};
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (i != preferred_) {
      order.push_back(i);
    }
  }
  return order;
}

Result<HttpResponse> RegistrySession::Send(const Endpoint& endpoint, HttpRequest req,
                                           const BodySink& sink, size_t max_body_bytes) {
  req.skip_tls_verify = endpoint.skip_tls_verify;
  std::vector<std::string> base_headers = req.headers;
  for (int round = 0; round < 2; ++round) {
    req.headers = base_headers;
    std::string auth = auth_.HeaderFor(endpoint.host);
    if (!auth.empty()) {
      req.headers.push_back(auth);
    }
    CR_ASSIGN_OR_RETURN(HttpResponse resp, http_.Do(req, sink, max_body_bytes));
    if (resp.status != 401) {
      return resp;
    }
    if (round == 1) {
      return Error(Code::kUnauthenticated,
                   "registry " + endpoint.host + " rejected the credentials for " + ref_.Name());
    }
    CR_RETURN_IF_ERROR(auth_.Answer(endpoint, resp.Header("www-authenticate"), req.deadline));
  }
  return Error(Code::kInternal, "unreachable");
}

Result<RegistrySession::Manifest> RegistrySession::FetchManifestFrom(
    const Endpoint& endpoint, const std::string& tag_or_digest, Deadline deadline) {
  HttpRequest req;
  req.url = endpoint.base_url + "/v2/" + ref_.path() + "/manifests/" + tag_or_digest;
  req.headers = {"Accept: " + ManifestAcceptHeader()};
  req.deadline = deadline;
  std::string what = "manifest " + ref_.Name() +
                     (tag_or_digest.find(':') == std::string::npos ? ":" : "@") + tag_or_digest;
  Result<HttpResponse> resp = Error(Code::kUnknown, "no attempt");
  for (int attempt = 0; attempt < kManifestAttempts; ++attempt) {
    if (attempt > 0 && !Backoff(attempt, deadline)) {
      break;
    }
    resp = Send(endpoint, req, nullptr, kMaxManifestBytes);
    if (resp.ok() && resp->status != 200) {
      resp = StatusError(resp->status, what, endpoint.host);
    }
    if (resp.ok() || !IsTransient(resp.error())) {
      break;
    }
  }
  if (!resp.ok()) {
    return std::move(resp).error();
  }
  Manifest m;
  m.body = std::move(resp->body);
  m.digest = Sha256Digest(m.body);
  if (tag_or_digest.find(':') != std::string::npos && m.digest != tag_or_digest) {
    return Error(Code::kDataLoss, what + " from " + endpoint.host + " has digest " + m.digest);
  }
  std::string header_digest = resp->Header("docker-content-digest");
  if (header_digest.rfind("sha256:", 0) == 0 && header_digest != m.digest) {
    return Error(Code::kDataLoss, what + " from " + endpoint.host + " has digest " + m.digest +
                                      " but the registry claims " + header_digest);
  }
  CR_ASSIGN_OR_RETURN(m.media_type, ManifestMediaType(m.body, resp->Header("content-type")));
  return m;
}

Result<RegistrySession::Manifest> RegistrySession::FetchManifest(const std::string& tag_or_digest,
                                                                 Deadline deadline) {
  std::string errors;
  Error last(Code::kUnavailable, "no registry endpoint");
  for (size_t i : EndpointOrder()) {
    auto m = FetchManifestFrom(endpoints_[i], tag_or_digest, deadline);
    if (m.ok()) {
      preferred_ = i;
      return m;
    }
    last = std::move(m).error();
    if (last.code() == Code::kDeadlineExceeded) {
      return last;
    }
    log::Debug({}, "endpoint {} failed: {}", endpoints_[i].base_url, last.ToString());
    errors += (errors.empty() ? "" : "; ") + last.message();
  }
  return Error(last.code(), errors);
}

Result<ResolvedImage> RegistrySession::Resolve(const Platform& platform, Deadline deadline) {
  std::string target = ref_.digest().empty() ? ref_.tag() : ref_.digest();
  CR_ASSIGN_OR_RETURN(Manifest top, FetchManifest(target, deadline));
  ResolvedImage out;
  out.target_digest = top.digest;
  out.target_media_type = top.media_type;
  Manifest image = top;
  if (IsIndexMediaType(top.media_type)) {
    CR_ASSIGN_OR_RETURN(std::vector<Descriptor> entries, ParseIndex(top.body));
    CR_ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(entries, platform));
    CR_ASSIGN_OR_RETURN(image, FetchManifest(chosen.digest, deadline));
  }
  if (!IsManifestMediaType(image.media_type)) {
    return Error(Code::kUnimplemented, "manifest " + image.digest + " of " + ref_.String() +
                                           " has unsupported media type \"" + image.media_type +
                                           "\"");
  }
  CR_ASSIGN_OR_RETURN(out.manifest, ParseImageManifest(image.body));
  out.manifest.media_type = image.media_type;
  out.manifest_digest = image.digest;
  out.manifest_body = std::move(image.body);
  out.target_body = std::move(top.body);
  return out;
}

Result<void> RegistrySession::DownloadInto(const Endpoint& endpoint, Ingest& ingest,
                                           Deadline deadline) {
  HttpRequest req;
  req.url = endpoint.base_url + "/v2/" + ref_.path() + "/blobs/" + ingest.digest();
  req.deadline = deadline;
  req.range_from = ingest.offset();
  bool started = false;
  std::string error_body;
  BodySink sink = [&](const HttpResponse& head, std::string_view chunk) -> Result<void> {
    if (head.status != 200 && head.status != 206) {
      error_body.append(
          chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, error_body.size())));
      return Ok();
    }
    if (!started) {
      started = true;
      if (head.status == 200 && ingest.offset() > 0) {
        CR_RETURN_IF_ERROR(ingest.Restart());  // the server ignored our Range: start over
      } else if (head.status == 206 &&
                 ContentRangeStart(head.Header("content-range")) != ingest.offset()) {
        CR_RETURN_IF_ERROR(ingest.Restart());
        return Error(Code::kUnavailable, "registry " + endpoint.host + " resumed blob " +
                                             ingest.digest() + " at the wrong offset");
      }
    }
    return ingest.Write(chunk);
  };
  ++blob_requests_;
  CR_ASSIGN_OR_RETURN(HttpResponse resp, Send(endpoint, req, sink, 0));
  if (resp.status == 416 && ingest.expected_size() == ingest.offset()) {
    return Ok();  // the partial file already holds every byte
  }
  if (resp.status != 200 && resp.status != 206) {
    return StatusError(resp.status, "blob " + ingest.digest(), endpoint.host);
  }
  if (ingest.expected_size() >= 0 && ingest.offset() < ingest.expected_size()) {
    return Error(Code::kUnavailable, "blob " + ingest.digest() + " from " + endpoint.host +
                                         " ended after " + std::to_string(ingest.offset()) +
                                         " bytes");
  }
  return Ok();
}

Result<Ingest> RegistrySession::WaitForIngest(const Descriptor& blob, ContentStore& store,
                                              Deadline deadline) {
  for (;;) {
    auto ingest = store.StartIngest(blob.digest, blob.size);
    if (ingest.ok() || ingest.error().code() != Code::kAborted) {
      return ingest;
    }
    // Another pull is downloading this blob: wait for it instead of downloading it twice.
    if (std::chrono::steady_clock::now() + kIngestPoll >= deadline) {
      return Error(Code::kDeadlineExceeded, "deadline exceeded waiting for blob " + blob.digest);
    }
    std::this_thread::sleep_for(kIngestPoll);
  }
}

Result<void> RegistrySession::FetchBlob(const Descriptor& blob, ContentStore& store,
                                        Deadline deadline) {
  auto ingest = WaitForIngest(blob, store, deadline);
  if (!ingest.ok() && ingest.error().code() == Code::kAlreadyExists) {
    return Ok();
  }
  if (!ingest.ok()) {
    return std::move(ingest).error();
  }
  Error last(Code::kUnavailable, "no registry endpoint");
  for (int attempt = 0; attempt < kBlobAttempts; ++attempt) {
    if (attempt > 0 && !Backoff(attempt, deadline)) {
      return Error(Code::kDeadlineExceeded,
                   "deadline exceeded fetching blob " + blob.digest + " after: " + last.message());
    }
    bool transient = false;
    for (size_t i : EndpointOrder()) {
      auto r = DownloadInto(endpoints_[i], *ingest, deadline);
      if (r.ok()) {
        preferred_ = i;
        return ingest->Commit();
      }
      last = std::move(r).error();
      if (last.code() == Code::kDeadlineExceeded || last.code() == Code::kDataLoss) {
        return last;
      }
      log::Debug({}, "blob {} from {}: {}", blob.digest, endpoints_[i].base_url, last.ToString());
      transient = transient || IsTransient(last);
    }
    if (!transient) {
      return last;
    }
  }
  return last;
}

Result<const Endpoint*> RegistrySession::Origin() const {
  for (const Endpoint& e : endpoints_) {
    if (!e.is_mirror) {
      return &e;
    }
  }
  return Error(Code::kFailedPrecondition,
               "registry " + ref_.domain() + " is mirror-only: cannot push " + ref_.Name());
}

Result<bool> RegistrySession::HasBlob(const std::string& digest, Deadline deadline) {
  CR_ASSIGN_OR_RETURN(const Endpoint* origin, Origin());
  HttpRequest req;
  req.method = "HEAD";
  req.url = origin->base_url + "/v2/" + ref_.path() + "/blobs/" + digest;
  req.deadline = deadline;
  Result<HttpResponse> resp = Error(Code::kUnknown, "no attempt");
  for (int attempt = 0; attempt < kManifestAttempts; ++attempt) {
    if (attempt > 0 && !Backoff(attempt, deadline)) {
      break;
    }
    resp = Send(*origin, req, nullptr, kMaxErrorBody);
    if (resp.ok() && (resp->status == 200 || resp->status == 404)) {
      return resp->status == 200;
    }
    if (resp.ok()) {
      resp = StatusError(resp->status, "blob " + digest, origin->host);
    }
    if (!IsTransient(resp.error())) {
      break;
    }
  }
  return std::move(resp).error();
}

namespace {

// distribution-spec: the Location of an upload session may be relative to the registry.
std::string AbsoluteLocation(const Endpoint& endpoint, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
    return location;
  }
  return endpoint.base_url + (location.rfind('/', 0) == 0 ? "" : "/") + location;
}

}  // namespace

Result<void> RegistrySession::PushBlobOnce(const Endpoint& origin, const Descriptor& blob, int fd,
                                           Deadline deadline) {
  std::string what = "push blob " + blob.digest + " to " + ref_.Name();
  HttpRequest post;
  post.method = "POST";
  post.url = origin.base_url + "/v2/" + ref_.path() + "/blobs/uploads/";
  post.deadline = deadline;
  CR_ASSIGN_OR_RETURN(HttpResponse session, Send(origin, post, nullptr, kMaxErrorBody));
  if (session.status != 202) {
    return StatusError(session.status, what + ": start upload", origin.host);
  }
  std::string location = session.Header("location");
  if (location.empty()) {
    return Error(Code::kUnavailable,
                 what + ": registry " + origin.host + " sent no upload location");
  }
  HttpRequest put;
  put.method = "PUT";
  put.url = AbsoluteLocation(origin, location);
  put.url += (put.url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") +
             blob.digest;
  put.headers = {"Content-Type: application/octet-stream"};
  put.upload_fd = fd;
  put.upload_size = blob.size;
  put.deadline = deadline;
  CR_ASSIGN_OR_RETURN(HttpResponse done, Send(origin, put, nullptr, kMaxErrorBody));
  if (done.status == 400 && done.body.find("DIGEST_INVALID") != std::string::npos) {
    return Error(Code::kDataLoss, what + ": registry " + origin.host +
                                      " found that the content does not match the digest");
  }
  if (done.status != 201) {
    return StatusError(done.status, what, origin.host);
  }
  bytes_pushed_ += blob.size;
  return Ok();
}

Result<void> RegistrySession::PushBlob(const Descriptor& blob, int fd, Deadline deadline) {
  CR_ASSIGN_OR_RETURN(const Endpoint* origin, Origin());
  Error last(Code::kUnavailable, "no attempt");
  for (int attempt = 0; attempt < kBlobAttempts; ++attempt) {
    if (attempt > 0 && !Backoff(attempt, deadline)) {
      return Error(Code::kDeadlineExceeded,
                   "deadline exceeded pushing blob " + blob.digest + " after: " + last.message());
    }
    auto r = PushBlobOnce(*origin, blob, fd, deadline);
    if (r.ok()) {
      return Ok();
    }
    last = std::move(r).error();
    if (!IsTransient(last)) {
      return last;
    }
    log::Debug({}, "push blob {} to {}: {}", blob.digest, origin->base_url, last.ToString());
  }
  return last;
}

Result<std::string> RegistrySession::PushManifest(const std::string& tag_or_digest,
                                                  const std::string& media_type,
                                                  const std::string& body, Deadline deadline) {
  CR_ASSIGN_OR_RETURN(const Endpoint* origin, Origin());
  std::string digest = Sha256Digest(body);
  std::string what = "push manifest " + ref_.Name() +
                     (tag_or_digest.find(':') == std::string::npos ? ":" : "@") + tag_or_digest;
  HttpRequest put;
  put.method = "PUT";
  put.url = origin->base_url + "/v2/" + ref_.path() + "/manifests/" + tag_or_digest;
  put.headers = {"Content-Type: " + media_type};
  put.body = body;
  put.deadline = deadline;
  Result<HttpResponse> resp = Error(Code::kUnknown, "no attempt");
  for (int attempt = 0; attempt < kManifestAttempts; ++attempt) {
    if (attempt > 0 && !Backoff(attempt, deadline)) {
      break;
    }
    resp = Send(*origin, put, nullptr, kMaxErrorBody);
    if (resp.ok() && resp->status != 201) {
      std::string detail = resp->body.substr(0, 512);
      resp = StatusError(resp->status, what, origin->host);
      if (!detail.empty() && resp.error().code() == Code::kFailedPrecondition) {
        resp = Error(Code::kFailedPrecondition, resp.error().message() + ": " + detail);
      }
    }
    if (resp.ok() || !IsTransient(resp.error())) {
      break;
    }
  }
  if (!resp.ok()) {
    return std::move(resp).error();
  }
  std::string header_digest = resp->Header("docker-content-digest");
  if (!header_digest.empty() && header_digest != digest) {
    return Error(Code::kDataLoss, what + ": registry " + origin->host + " stored digest " +
                                      header_digest + " instead of " + digest);
  }
  return digest;
}

}  // namespace cricket::storage
