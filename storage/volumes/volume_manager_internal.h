#pragma once

// VolumeManager's per-volume state, shared by volume_manager.cc (attach, detach, resume) and
// volume_manager_snapshot.cc (snapshots, the periodic loop, release).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "storage/volumes/attachment_record.h"
#include "storage/volumes/coordination/lease_keeper.h"
#include "storage/volumes/volume_manager.h"

namespace cricket::storage {

struct VolumeManager::Attachment {
  explicit Attachment(AttachmentRecord r) : record(std::move(r)) {}

  mutable std::mutex mu;
  AttachmentRecord record;                              // Guarded by mu.
  bool dropped = false;                                 // Guarded by mu: no longer attached.
  int64_t snapshots = 0;                                // Guarded by mu.
  int64_t last_snapshot_unix_ms = 0;                    // Guarded by mu.
  std::string last_error;                               // Guarded by mu.
  int64_t restore_bytes_downloaded = 0;                 // Guarded by mu.
  int64_t bytes_uploaded = 0;                           // Guarded by mu.
  int64_t last_snapshot_bytes_uploaded = 0;             // Guarded by mu.
  std::chrono::steady_clock::time_point next_snapshot;  // Guarded by mu.
  // Created and destroyed only under the volume's op lock, never under `mu` (its callback
  // takes `mu`, and destroying it joins the callback's thread).
  std::unique_ptr<LeaseKeeper> keeper;
};

}  // namespace cricket::storage
