#pragma once

// Snapshot: publishes the current content of a volume directory to a SnapshotStore.
//
// The first snapshot (or one whose parent is not what the local index describes) is a single
// full layer. Later ones add one incremental layer with only what changed since `parent`
// (index_diff.h), and the manifest lists every layer from base to head. When the parent already
// has `squash_after_layers` layers, the new snapshot is one full layer instead, so a restore
// never applies more than that many. Nothing changed: the parent is returned and nothing is
// uploaded.
//
// Order of effects: layer blob, config blob, manifest into the store, then the layer into the
// local layer cache (when given), then the index in `state_dir` (atomically). A failure at any
// point leaves the previous index, so the next attempt diffs against the last published state.
//
// A writer may keep writing while this runs: see layer_builder.h (torn files are re-read, and
// marked dirty when they never hold still). The snapshot that hands a volume to another node is
// taken after the containers stopped, and is exact.
//
// Not thread-safe per `state_dir`: the caller runs one snapshot per volume at a time.

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "storage/volumes/snapshots/layer_builder.h"
#include "storage/volumes/snapshots/snapshot_store.h"

namespace cricket::storage::volumes {

struct SnapshotOptions {
  // A manifest never holds more layers than this; at the limit the next snapshot is a full
  // layer.
  int squash_after_layers = 8;
  LayerBuildOptions layer;
  // When set, a ContentStore root that also receives the layers this node produced, so a later
  // restore on this node downloads none of them.
  std::string layer_cache_dir;
  // When set, the manifest is also stored under this tag.
  std::string tag;
  // A file whose mtime lies within this margin before the previous scan has its content
  // compared by hash (timestamps tick coarsely).
  std::chrono::nanoseconds racy_margin = std::chrono::seconds(1);
};

struct SnapshotResult {
  std::string manifest_digest;
  int64_t bytes_uploaded = 0;  // blob bytes the store did not have
  int layer_count = 0;         // layers in the manifest
  bool new_layer = false;      // false: nothing changed, manifest_digest == parent
  bool full_layer = false;     // the new layer holds the whole volume
  int64_t entries_packed = 0;
  int64_t whiteouts = 0;
};

// `state_dir` holds this volume's index (created when missing). `parent`: the manifest digest
// of the volume's current head, or "" for the first snapshot. Errors: kNotFound when
// `volume_dir` does not exist; the store's errors (kUnavailable, kDataLoss, ...), wrapped.
Result<SnapshotResult> Snapshot(const std::string& volume_dir, const std::string& state_dir,
                                SnapshotStore& store, const std::string& parent,
                                const SnapshotOptions& options = {});

// The index file inside a state dir.
std::string IndexPath(const std::string& state_dir);

}  // namespace cricket::storage::volumes
