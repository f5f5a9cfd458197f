// ImageStore::GarbageCollect and the sweep it shares with the start-up reconcile
// (image_reconcile.cc).

#include <set>

#include "common/failpoint.h"
#include "common/log.h"
#include "storage/image_store.h"

namespace cricket::storage {
namespace {

constexpr int64_t kStalePartialSeconds = 7 * 24 * 3600;

}  // namespace

Result<void> ImageStore::GarbageCollect() {
  CR_ASSIGN_OR_RETURN(SweepCounts removed, Sweep(kStalePartialSeconds));
  if (removed.blobs + removed.partials + removed.layers > 0) {
    log::Info({}, "image gc removed {} blobs and {} layers", removed.blobs + removed.partials,
              removed.layers);
  }
  return Ok();
}

// Mark and sweep under gc_mu_, so a pull cannot Hold() something between our mark and sweep.
// Blobs go before layers: a crash in between leaves layers, which the next sweep removes.
Result<ImageStore::SweepCounts> ImageStore::Sweep(int64_t partial_age_seconds) {
  std::lock_guard lock(gc_mu_);
  SweepCounts removed;
  std::set<std::string> keep(in_use_.begin(), in_use_.end());
  // Every image record keeps its blobs and layers, pinned ones included; nothing is swept when
  // the records cannot be read.
  CR_ASSIGN_OR_RETURN(std::vector<Image> images, db_->List());
  for (const Image& image : images) {
    keep.insert(image.blobs.begin(), image.blobs.end());
    for (const std::string& chain : ChainIds(image.config.diff_ids)) {
      keep.insert(chain);
    }
  }
  // Layers under container snapshots stay, even when their image is gone.
  CR_ASSIGN_OR_RETURN(std::vector<std::string> snapshots, snapshots_->ListSnapshots());
  for (const std::string& key : snapshots) {
    auto chain = snapshots_->SnapshotParent(key);
    while (chain.ok() && !chain->empty() && keep.insert(*chain).second) {
      chain = snapshots_->LayerParent(*chain);
    }
  }
  CR_ASSIGN_OR_RETURN(std::vector<std::string> blobs, content_->List());
  for (const std::string& digest : blobs) {
    if (keep.count(digest) == 0) {
      CR_RETURN_IF_ERROR(content_->Delete(digest));
      ++removed.blobs;
    }
  }
  CR_FAILPOINT(kImageGcAfterBlobs);
  CR_ASSIGN_OR_RETURN(removed.layers, snapshots_->PurgeRemovedLayers());
  CR_ASSIGN_OR_RETURN(std::vector<std::string> layers, snapshots_->ListLayers());
  for (const std::string& chain : layers) {
    if (keep.count(chain) == 0) {
      CR_RETURN_IF_ERROR(snapshots_->RemoveLayer(chain));
      ++removed.layers;
    }
  }
  // Partial downloads nobody resumed in time are given up.
  CR_ASSIGN_OR_RETURN(removed.partials, content_->PruneIngest(partial_age_seconds));
  return removed;
}

}  // namespace cricket::storage
