#pragma once

// Bytes and inodes used under a directory tree (for ImageFsInfo). Hardlinked files count once;
// symlinks are not followed; other filesystems mounted below are not entered.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace cricket::storage {

struct DiskUsage {
  int64_t used_bytes = 0;
  int64_t inodes_used = 0;
};

// kNotFound when `path` does not exist.
Result<DiskUsage> MeasureDiskUsage(const std::string& path);

// The size of the filesystem holding `path` (statfs): for CRI metrics' container_fs_limit_bytes
// and container_fs_inodes_total/_free.
struct FsCapacity {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
  uint64_t inodes_free = 0;
};
Result<FsCapacity> MeasureFsCapacity(const std::string& path);

}  // namespace cricket::storage
