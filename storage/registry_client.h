#pragma once

// RegistrySession: the distribution-spec v2 side of one pull of one repository.
//
// Resolve() fetches the manifest a reference names (tag or digest) with an Accept header for
// OCI index/manifest and Docker list/schema2, verifies its digest, and, for an index, selects
// the platform's manifest. FetchBlob() streams a blob into the ContentStore (never into memory),
// retrying transient failures with backoff and resuming with Range requests; the store verifies
// digest and size before the blob becomes visible. Endpoints (mirrors, then the origin unless
// mirror-only) are tried in order; the one that answered last is tried first next time.
//
// Not thread-safe: one session per pull. Different sessions may run concurrently; they share
// blobs through the ContentStore (a second download of a blob in progress waits for the first).

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/content_store.h"
#include "storage/http_client.h"
#include "storage/manifest.h"
#include "storage/reference.h"
#include "storage/registry_auth.h"
#include "storage/registry_config.h"

namespace cricket::storage {

struct ResolvedImage {
  // What the reference points at (an index or a manifest): the repo digest.
  std::string target_digest;
  std::string target_media_type;
  std::string target_body;
  // The platform's image manifest (== target for a single-platform image).
  std::string manifest_digest;
  std::string manifest_body;
  ImageManifest manifest;
};

class RegistrySession {
 public:
  // kInvalidArgument / kFailedPrecondition from ResolveEndpoints.
  static Result<std::unique_ptr<RegistrySession>> Create(const RegistryConfig& config,
                                                         const HttpClient& http,
                                                         const Reference& ref, AuthConfig auth);

  // kNotFound (no such manifest, or no manifest for `platform`), kUnauthenticated, kDataLoss
  // (digest mismatch), kUnavailable (every endpoint failed), kDeadlineExceeded.
  Result<ResolvedImage> Resolve(const Platform& platform, Deadline deadline);
  // OK at once when the store has the blob. kDataLoss naming the blob when the content does not
  // match its digest or size (nothing is kept); kDeadlineExceeded keeps the partial download
  // for a later resume.
  Result<void> FetchBlob(const Descriptor& blob, ContentStore& store, Deadline deadline);

  // Push (distribution-spec "push"), always to the registry itself, never to a mirror
  // (kFailedPrecondition for a mirror-only registry).
  //
  // Whether the repository holds the blob (HEAD). kPermissionDenied, kUnauthenticated,
  // kUnavailable.
  Result<bool> HasBlob(const std::string& digest, Deadline deadline);
  // Uploads `blob.size` bytes read from `fd` (from offset 0) as `blob.digest`: POST an upload
  // session, then one monolithic PUT ?digest=. The registry verifies the digest (kDataLoss when
  // it refuses it as invalid). Transient failures are retried with a new session.
  Result<void> PushBlob(const Descriptor& blob, int fd, Deadline deadline);
  // PUTs a manifest under a tag or its digest; its blobs must be pushed first. Returns the
  // digest of `body` (kDataLoss when the registry reports another).
  Result<std::string> PushManifest(const std::string& tag_or_digest, const std::string& media_type,
                                   const std::string& body, Deadline deadline);

  // Number of blob GET requests sent (for tests and the benchmark).
  int blob_requests() const { return blob_requests_; }
  // Blob bytes sent by PushBlob (for tests and the benchmark).
  int64_t bytes_pushed() const { return bytes_pushed_; }

 private:
  RegistrySession(const HttpClient& http, Reference ref, std::vector<Endpoint> endpoints,
                  AuthConfig auth)
      : http_(http),
        ref_(std::move(ref)),
        endpoints_(std::move(endpoints)),
        auth_(http, std::move(auth), ref_.path()) {}

  struct Manifest {
    std::string digest;
    std::string media_type;
    std::string body;
  };
  // Sends `req` to `endpoint`, answering one 401 challenge.
  Result<HttpResponse> Send(const Endpoint& endpoint, HttpRequest req, const BodySink& sink,
                            size_t max_body_bytes);
  Result<Manifest> FetchManifestFrom(const Endpoint& endpoint, const std::string& tag_or_digest,
                                     Deadline deadline);
  Result<Manifest> FetchManifest(const std::string& tag_or_digest, Deadline deadline);
  Result<void> DownloadInto(const Endpoint& endpoint, Ingest& ingest, Deadline deadline);
  Result<Ingest> WaitForIngest(const Descriptor& blob, ContentStore& store, Deadline deadline);
  // The registry itself (push never goes to a mirror).
  Result<const Endpoint*> Origin() const;
  Result<void> PushBlobOnce(const Endpoint& origin, const Descriptor& blob, int fd,
                            Deadline deadline);
  // Endpoint indices, the last one that worked first.
  std::vector<size_t> EndpointOrder() const;

  const HttpClient& http_;
  Reference ref_;
  std::vector<Endpoint> endpoints_;
  RegistryAuth auth_;
  size_t preferred_ = 0;
  int blob_requests_ = 0;
  int64_t bytes_pushed_ = 0;
};

}  // namespace cricket::storage
