#pragma once

// PackDirectory: a plain (uncompressed) pax tar of a directory tree, names relative to it, for
// checkpoint archives (cri/checkpoint_*.cc). Regular files, directories, symlinks and device
// nodes keep mode, owner and mtime; an overlayfs whiteout (a 0/0 character device in an upper
// dir) is packed as that device, so UnpackLayer (privileged) recreates the same upper dir.
// Symlinks are never followed; a file is read through an fd opened with O_NOFOLLOW.
// The reverse is UnpackLayer (storage/layer_unpack.h), which refuses names that escape.
// Thread-compatible; no state beyond the call.

#include <string>

#include "common/result.h"

namespace cricket::storage {

// Writes the tar to `out_fd` from its current offset. A missing `dir` is kNotFound; errors name
// the entry.
Result<void> PackDirectory(const std::string& dir, int out_fd);

}  // namespace cricket::storage
