#pragma once

// Restore: materialises a volume snapshot in a directory.
//
// Fetches the manifest (verified against its digest), then the config and every layer the local
// layer cache (a ContentStore) lacks: only those cross the network, each verified before it
// enters the cache. The layers are applied base to head with storage/layer_unpack.h in
// WhiteoutMode::kApply (no entry escapes the tree; whiteouts delete) into a fresh sibling
// directory of `target_dir`, which replaces `target_dir` by rename only when everything
// succeeded: on any error `target_dir` is exactly as before and the sibling is removed.
// An existing `target_dir` is swapped out atomically (renameat2 RENAME_EXCHANGE) and its old
// content removed afterwards.
//
// With `state_dir` set, the index of the restored tree is written there, so the next
// Snapshot() on this node with this manifest as parent is incremental.
//
// Not thread-safe per `target_dir`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "storage/volumes/snapshots/snapshot_store.h"

namespace cricket::storage::volumes {

struct RestoreOptions {
  std::string state_dir;
  // Chown entries, create device nodes (root only). Default: whether we run as root.
  std::optional<bool> privileged;
  // Restored files whose mtime lies within this margin of the restore get their content hash
  // recorded in the index (see SnapshotOptions::racy_margin); older ones need none.
  std::chrono::nanoseconds racy_margin = std::chrono::seconds(1);
};

struct RestoreResult {
  int64_t bytes_downloaded = 0;  // blob bytes the cache lacked
  int blobs_downloaded = 0;      // config included
  int layer_count = 0;
};

// Errors: kNotFound (manifest or blob missing from the store), kDataLoss naming the digest of a
// corrupted manifest, config or layer, kFailedPrecondition when the manifest is not a volume
// snapshot, the store's transport errors; filesystem errors naming the path.
Result<RestoreResult> Restore(const std::string& manifest_digest, SnapshotStore& store,
                              const std::string& layer_cache_dir, const std::string& target_dir,
                              const RestoreOptions& options = {});

}  // namespace cricket::storage::volumes
