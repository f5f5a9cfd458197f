#pragma once

// SnapshotStore: where volume snapshots live, content-addressed. Two backends:
//   dir_snapshot_store.h  a directory, e.g. on a shared filesystem (blobs/sha256/<hex>)
//   oci_snapshot_store.h  a registry repository, e.g. 127.0.0.1:5000/cricket-volumes/<volume>
// Manifests are stored by digest; a tag is optional (the head pointer belongs to the volume's
// coordination record, not to the store). Everything read is verified against its digest.
//
// Implementations are not thread-safe: one store object per snapshot or restore at a time.

#include <string>

#include "common/result.h"
#include "storage/content_store.h"
#include "storage/manifest.h"

namespace cricket::storage::volumes {

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // "dir:/srv/snapshots", "oci:127.0.0.1:5000/cricket-volumes/data".
  virtual std::string Describe() const = 0;
  // Stores `blob.size` bytes read from `fd` (from offset 0) as `blob.digest`. Returns false
  // when the store already had the blob (nothing was sent), true when it was uploaded.
  // kDataLoss when the bytes do not match the digest; kUnavailable when the store is
  // unreachable.
  virtual Result<bool> PutBlob(const Descriptor& blob, int fd) = 0;
  // Stores a manifest under its digest and, when `tag` is not empty, under `tag`. Its blobs must
  // be stored first. Returns its digest.
  virtual Result<std::string> PutManifest(const std::string& body, const std::string& tag) = 0;
  // The manifest with this digest, verified. kNotFound, kDataLoss naming the digest.
  virtual Result<std::string> GetManifest(const std::string& digest) = 0;
  // Copies a blob into `cache` (a no-op when the cache has it), verified before it becomes
  // visible there. kNotFound, kDataLoss naming the digest (the cache keeps nothing).
  virtual Result<void> FetchBlob(const Descriptor& blob, ContentStore& cache) = 0;
};

}  // namespace cricket::storage::volumes
