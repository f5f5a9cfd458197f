#pragma once

// The "local" coordination backend: portable volumes on one machine, no cluster service.
//
// Under options.local_dir, per volume:
//   <volume>.lock   an open-file-description lock (fcntl F_OFD_SETLK) held while attached; the
//                   kernel drops it when the holder's process dies, so a crash releases the
//                   volume. The file records "<node> <pid>" for error messages and List().
//   <volume>.token  the fencing counter, incremented (atomic rewrite) by every Acquire.
//   <volume>.head   the head record (common/files.h WriteFileAtomic).
// Leases never expire on their own (ttl 0); KeepAlive only checks the lock is still held and
// the counter unchanged, and resumes a lease persisted before a restart when both still hold.

#include <memory>

#include "common/result.h"
#include "storage/volumes/coordination/coordinator.h"

namespace cricket::storage {

// kInvalidArgument when options.local_dir is empty; errors of creating the directory.
Result<std::unique_ptr<VolumeCoordinator>> MakeLocalCoordinator(const CoordinatorOptions& options);

}  // namespace cricket::storage
