#pragma once

// DiffIndex: what changed in a volume since the snapshot described by a VolumeIndex.
//
// An entry is packed again when it is new, changed type, mode, owner, size, mtime or symlink
// target, was left dirty (torn) by the previous snapshot, or, for a regular file whose metadata
// looks unchanged but is ambiguous (its ctime moved, or its mtime is not clearly older than the
// previous scan, so a write within the same timestamp tick could hide), when its content hash
// differs. Deleted entries get a whiteout unless their parent is gone or is no longer a
// directory (the parent's own whiteout or replacement covers them). A rename is a delete plus an
// add. Every ancestor directory of a packed entry is packed too (header only), so a restore
// reproduces directory modes and times.
//
// Pure apart from `hash_file`; thread-compatible.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/volumes/snapshots/volume_index.h"

namespace cricket::storage::volumes {

struct IndexDiff {
  // Indices into the current entries to pack, in their (pre-)order.
  std::vector<size_t> pack;
  // Paths to white out, sorted.
  std::vector<std::string> whiteouts;
  // For reports and tests (ancestor directories packed only as parents are not listed).
  std::vector<std::string> added;
  std::vector<std::string> modified;
  std::vector<std::string> deleted;

  bool empty() const { return pack.empty() && whiteouts.empty(); }
};

// Returns the content hash ("sha256:<hex>") of a regular file of the volume.
using HashFile = std::function<Result<std::string>(const IndexEntry& entry)>;

// Compares `current` (a fresh scan, pre-order) against `previous`. Unchanged regular files of
// `current` inherit the previous hash (or the one computed here). `racy_margin_ns`: how close to
// the previous scan an mtime counts as ambiguous.
Result<IndexDiff> DiffIndex(const VolumeIndex& previous, std::vector<IndexEntry>& current,
                            const HashFile& hash_file, int64_t racy_margin_ns);

}  // namespace cricket::storage::volumes
