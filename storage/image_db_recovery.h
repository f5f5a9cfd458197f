#pragma once

// Rebuilds images.db rows from the blobs and layers on disk, after ImageDb::Open set a damaged
// file aside. An image comes back when its manifest, its config and every layer blob are in the
// content store and its top layer is unpacked (a complete pull); anything less is left for GC.
//
// What cannot come back: tags and repo digests. Registry manifests and indexes name no
// repository, so a recovered image is known by its id (the config digest) only; kubelet's next
// PullImage by tag finds every blob present and records the name again without a download.
// pulled_at is the manifest blob's modification time.

#include "common/result.h"
#include "storage/content_store.h"
#include "storage/image_db.h"
#include "storage/snapshotter.h"

namespace cricket::storage {

struct ImageRecovery {
  int recovered = 0;   // images put back into the db
  int incomplete = 0;  // manifests whose config, layers or unpacked layers are missing
};

// Puts every complete image found into `db`. Errors reading the db or listing the blob store
// are returned; an unreadable or unparsable blob is skipped (it is not an image manifest).
Result<ImageRecovery> RebuildImageDb(const ContentStore& content, const Snapshotter& snapshots,
                                     ImageDb& db);

}  // namespace cricket::storage
