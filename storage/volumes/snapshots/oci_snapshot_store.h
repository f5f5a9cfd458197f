#pragma once

// OciSnapshotStore: snapshots as OCI artifacts in a registry repository, through the registry
// client (storage/registry_client.h): PutBlob = HEAD (skip when present) then a monolithic
// upload (POST a session, PUT ?digest=); PutManifest = PUT by digest (and tag); GetManifest and
// FetchBlob = the pull path with digest verification, mirrors and auth included. Pushes go to the
// registry itself, never to a mirror.

#include <chrono>
#include <memory>
#include <string>

#include "storage/http_client.h"
#include "storage/reference.h"
#include "storage/registry_client.h"
#include "storage/registry_config.h"
#include "storage/volumes/snapshots/snapshot_store.h"

namespace cricket::storage::volumes {

struct OciStoreOptions {
  RegistryConfig registry;
  AuthConfig auth;
  // Per store operation (one blob or manifest).
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

class OciSnapshotStore final : public SnapshotStore {
 public:
  // `repository`: "127.0.0.1:5000/cricket-volumes/data" (no tag or digest). kInvalidArgument
  // naming it when malformed. `http` must outlive the store.
  static Result<std::unique_ptr<OciSnapshotStore>> Create(const std::string& repository,
                                                          const HttpClient& http,
                                                          OciStoreOptions options);

  std::string Describe() const override { return "oci:" + repository_.Name(); }
  Result<bool> PutBlob(const Descriptor& blob, int fd) override;
  Result<std::string> PutManifest(const std::string& body, const std::string& tag) override;
  Result<std::string> GetManifest(const std::string& digest) override;
  Result<void> FetchBlob(const Descriptor& blob, ContentStore& cache) override;

 private:
  OciSnapshotStore(Reference repository, const HttpClient& http, OciStoreOptions options)
      : repository_(std::move(repository)), http_(http), options_(std::move(options)) {}
  Result<std::unique_ptr<RegistrySession>> Session(const Reference& ref) const;
  Deadline NextDeadline() const { return std::chrono::steady_clock::now() + options_.timeout; }

  Reference repository_;
  const HttpClient& http_;
  OciStoreOptions options_;
};

}  // namespace cricket::storage::volumes
