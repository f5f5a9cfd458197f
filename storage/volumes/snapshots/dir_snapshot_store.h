#pragma once

// DirSnapshotStore: snapshots in a directory, typically on a filesystem every node mounts
// (NFS, CephFS). The layout is a ContentStore (blobs/sha256/<hex>, ingest/ for partial
// writes, renamed into place only once verified, so a crash never leaves a half blob under its
// digest) plus tags/<tag> files holding a manifest digest (written atomically). Manifests are
// blobs like any other, as in an OCI image layout.

#include <memory>
#include <string>

#include "storage/volumes/snapshots/snapshot_store.h"

namespace cricket::storage::volumes {

class DirSnapshotStore final : public SnapshotStore {
 public:
  // Creates the layout under `root` when missing.
  static Result<std::unique_ptr<DirSnapshotStore>> Open(const std::string& root);

  std::string Describe() const override { return "dir:" + store_->root(); }
  Result<bool> PutBlob(const Descriptor& blob, int fd) override;
  Result<std::string> PutManifest(const std::string& body, const std::string& tag) override;
  Result<std::string> GetManifest(const std::string& digest) override;
  Result<void> FetchBlob(const Descriptor& blob, ContentStore& cache) override;
  // The digest a tag names. kNotFound.
  Result<std::string> ResolveTag(const std::string& tag) const;

 private:
  explicit DirSnapshotStore(std::unique_ptr<ContentStore> store) : store_(std::move(store)) {}
  std::unique_ptr<ContentStore> store_;
};

// Streams `size` bytes of `fd` (from offset 0) into `store` as `digest`, verified on commit.
// OK at once when the store has the blob. Shared by the stores and the snapshot code.
Result<void> CopyIntoStore(int fd, const std::string& digest, int64_t size, ContentStore& store);

}  // namespace cricket::storage::volumes
