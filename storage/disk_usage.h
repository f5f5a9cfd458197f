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

}  // namespace cricket::storage
