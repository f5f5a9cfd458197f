#include <set>

#include "common/log.h"
#include "storage/image_store.h"

namespace cricket::storage {
namespace {

constexpr int64_t kStalePartialSeconds = 7 * 24 * 3600;

}  // namespace

// Mark and sweep under gc_mu_, so a pull cannot Hold() something between our mark and sweep.
Result<void> ImageStore::GarbageCollect() {
  std::lock_guard lock(gc_mu_);
  std::set<std::string> keep(in_use_.begin(), in_use_.end());
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
  int blobs_removed = 0;
  int layers_removed = 0;
  CR_ASSIGN_OR_RETURN(std::vector<std::string> blobs, content_->List());
  for (const std::string& digest : blobs) {
    if (keep.count(digest) == 0) {
      CR_RETURN_IF_ERROR(content_->Delete(digest));
      ++blobs_removed;
    }
  }
  CR_ASSIGN_OR_RETURN(std::vector<std::string> layers, snapshots_->ListLayers());
  for (const std::string& chain : layers) {
    if (keep.count(chain) == 0) {
      CR_RETURN_IF_ERROR(snapshots_->RemoveLayer(chain));
      ++layers_removed;
    }
  }
  // Partial downloads nobody resumed for a week are given up.
  CR_ASSIGN_OR_RETURN(int partials_removed, content_->PruneIngest(kStalePartialSeconds));
  blobs_removed += partials_removed;
  if (blobs_removed + layers_removed > 0) {
    log::Info({}, "image gc removed {} blobs and {} layers", blobs_removed, layers_removed);
  }
  return Ok();
}

}  // namespace cricket::storage
