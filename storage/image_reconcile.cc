// ImageStore::Reconcile (start-up) and DropFailedPull: remove what an interrupted or failed pull
// or removal left behind (issue #14).
//
// Cost at every start: directory listings of ingest/, blobs/sha256/, snapshots/layers/ and
// snapshots/containers/ (one small file read per container snapshot and per layer of its
// chain) and one read of every image record. No blob or layer is hashed: a blob only appears
// under blobs/ after its digest was checked (content_store.h), a layer only under its chain ID
// once fully unpacked (snapshotter.h), so names are enough.

#include "common/log.h"
#include "storage/image_store.h"

namespace cricket::storage {

void ImageStore::Reconcile() {
  // Nothing is downloading yet: every partial file is a download a crash interrupted. Resuming
  // it after a restart is not worth keeping bytes nobody may ask for again.
  auto removed = Sweep(/*partial_age_seconds=*/0);
  if (!removed.ok()) {
    log::Warn({}, "image store start-up reconcile skipped: {}", removed.error().ToString());
    return;
  }
  if (removed->partials > 0) {
    log::Info({}, "image store start-up: removed {} partial downloads", removed->partials);
  }
  if (removed->blobs + removed->layers > 0) {
    log::Info({}, "image store start-up: removed {} blobs and {} layers no image references",
              removed->blobs, removed->layers);
  }
}

void ImageStore::DropFailedPull(const std::string& ref, const std::vector<std::string>& digests) {
  for (const std::string& digest : digests) {
    if (auto dropped = content_->DiscardPartial(digest); !dropped.ok()) {
      log::Warn({}, "drop partial download of {} after a failed pull of {}: {}", digest, ref,
                dropped.error().ToString());
    }
  }
  if (auto gc = GarbageCollect(); !gc.ok()) {
    log::Warn({}, "gc after failed pull of {}: {}", ref, gc.error().ToString());
  }
}

}  // namespace cricket::storage
