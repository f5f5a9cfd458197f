#pragma once

// UnpackLayer: applies one image layer (a tar stream, gzip- or zstd-compressed or plain) to an
// empty layer directory in the form overlayfs expects of a lower or upper directory:
//   - OCI whiteouts ".wh.<name>" become overlay whiteouts (a 0/0 character device <name>);
//   - opaque markers ".wh..wh..opq" become the xattr <prefix>opaque=y on their directory;
//   - regular files, directories, hardlinks, symlinks, FIFOs and device nodes keep owner, mode,
//     mtime and xattrs (owners, devices and trusted.* xattrs only when privileged).
// No entry lands outside the layer directory: absolute names and ".." components are refused,
// and every parent is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS) from the
// layer dir fd, so a write through a symlink (planted by this or an earlier layer) is refused.
// The uncompressed stream is hashed as it is read; its digest is the layer's diff_id.
// Decompression bombs: the bytes of that stream (headers, pax/long-name records, sparse maps and
// file data alike: what the decompressor produced, not what a header claims) and the number of
// entries are capped while streaming, so a small blob cannot fill the disk or the inode table.
//
// Streams: the blob is never held in memory. Thread-safe (no shared state).

#include <cstdint>
#include <string>

#include "common/result.h"
#include "storage/layer_unpack_options.h"

namespace cricket::storage {

struct UnpackStats {
  std::string diff_id;  // sha256 of the uncompressed tar stream
  int64_t uncompressed_bytes = 0;
  int64_t entries = 0;
};

// Unpacks the layer read from `blob_fd` (from its current offset) into the directory `layer_fd`.
// Errors: kInvalidArgument for a hostile or malformed entry (naming it), kDataLoss for a
// truncated or corrupt stream or a diff_id mismatch, kResourceExhausted (naming the limit) when
// the layer exceeds a cap of `options`, errno-derived codes for filesystem errors.
// On error the layer directory holds a partial tree: the caller removes it.
Result<UnpackStats> UnpackLayer(int blob_fd, int layer_fd, const UnpackOptions& options);

}  // namespace cricket::storage
