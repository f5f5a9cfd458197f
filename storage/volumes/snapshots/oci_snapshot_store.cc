#include "storage/volumes/snapshots/oci_snapshot_store.h"

#include "storage/digest.h"
#include "storage/volumes/snapshots/snapshot_artifact.h"

namespace cricket::storage::volumes {

Result<std::unique_ptr<OciSnapshotStore>> OciSnapshotStore::Create(const std::string& repository,
                                                                   const HttpClient& http,
                                                                   OciStoreOptions options) {
  size_t last = repository.rfind('/');
  if (repository.find('@') != std::string::npos || last == std::string::npos ||
      repository.find(':', last) != std::string::npos) {
    return Error(Code::kInvalidArgument, "snapshot repository \"" + repository +
                                             "\" must be <registry>/<path> without tag or digest");
  }
  auto ref = ParseReference(repository);
  if (!ref.ok()) {
    return ref.error().Wrap("snapshot repository");
  }
  CR_RETURN_IF_ERROR(ResolveEndpoints(options.registry, ref->domain()));
  return std::unique_ptr<OciSnapshotStore>(
      new OciSnapshotStore(std::move(ref).value(), http, std::move(options)));
}

Result<std::unique_ptr<RegistrySession>> OciSnapshotStore::Session(const Reference& ref) const {
  return RegistrySession::Create(options_.registry, http_, ref, options_.auth);
}

Result<bool> OciSnapshotStore::PutBlob(const Descriptor& blob, int fd) {
  CR_ASSIGN_OR_RETURN(std::unique_ptr<RegistrySession> session, Session(repository_));
  Deadline deadline = NextDeadline();
  CR_ASSIGN_OR_RETURN(bool present, session->HasBlob(blob.digest, deadline));
  if (present) {
    return false;
  }
  CR_RETURN_IF_ERROR(session->PushBlob(blob, fd, deadline));
  return true;
}

Result<std::string> OciSnapshotStore::PutManifest(const std::string& body,
                                                  const std::string& tag) {
  CR_ASSIGN_OR_RETURN(std::unique_ptr<RegistrySession> session, Session(repository_));
  Deadline deadline = NextDeadline();
  std::string media_type(kOciManifest);
  CR_ASSIGN_OR_RETURN(std::string digest,
                      session->PushManifest(Sha256Digest(body), media_type, body, deadline));
  if (!tag.empty()) {
    CR_RETURN_IF_ERROR(session->PushManifest(tag, media_type, body, deadline));
  }
  return digest;
}

Result<std::string> OciSnapshotStore::GetManifest(const std::string& digest) {
  CR_RETURN_IF_ERROR(Sha256Hex(digest));
  CR_ASSIGN_OR_RETURN(std::unique_ptr<RegistrySession> session,
                      Session(repository_.WithDigest(digest)));
  // Resolve verifies the body against the digest (kDataLoss) and that it is an image manifest.
  CR_ASSIGN_OR_RETURN(ResolvedImage resolved, session->Resolve(HostPlatform(), NextDeadline()));
  return std::move(resolved.manifest_body);
}

Result<void> OciSnapshotStore::FetchBlob(const Descriptor& blob, ContentStore& cache) {
  if (cache.Has(blob.digest)) {
    return Ok();
  }
  CR_ASSIGN_OR_RETURN(std::unique_ptr<RegistrySession> session, Session(repository_));
  return session->FetchBlob(blob, cache, NextDeadline());
}

}  // namespace cricket::storage::volumes
