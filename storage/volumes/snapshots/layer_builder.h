#pragma once

// BuildLayer: packs the entries an IndexDiff selects (plus its whiteouts) into one OCI layer
// blob: a pax tar, zstd-compressed or plain, streamed to a file while both the compressed
// digest and the diff_id (uncompressed digest) are computed.
//
// Consistency with a writer that keeps running (the volume stays mounted in its pod): a file
// is read from an fd opened without following symlinks (openat2 RESOLVE_IN_ROOT), its header
// takes size and times from fstat before the read, and it is fstat-ed again after the read.
// When size, mtime or ctime moved (or the file was modified within the timestamp tick of the
// read and a second read hashes differently), the copy may be torn: the file is packed again right after
// (a later tar entry of the same name replaces the earlier one on restore), up to
// `torn_retries` times; when it never holds still its index entry is marked dirty so the next
// snapshot packs it again. The writer is never blocked. A file that vanished or changed type
// between the scan and the read gets a whiteout and leaves the index.
//
// Thread-compatible; no state beyond the call.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/manifest.h"
#include "storage/volumes/snapshots/index_diff.h"
#include "storage/volumes/snapshots/volume_index.h"

namespace cricket::storage::volumes {

enum class LayerCompression { kZstd, kNone };

inline constexpr std::string_view kLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kLayerTar = "application/vnd.oci.image.layer.v1.tar";

struct LayerBuildOptions {
  LayerCompression compression = LayerCompression::kZstd;
  int zstd_level = 3;
  int torn_retries = 2;
};

struct BuiltLayer {
  Descriptor descriptor;  // media type, digest and size of the blob written
  std::string diff_id;
  int64_t uncompressed_bytes = 0;
  int64_t entries_packed = 0;
  int64_t torn_rereads = 0;
};

// Writes the layer to `out_fd` (from its current offset; the caller owns the file). Updates
// `entries` for what was packed: fresh metadata, content hash, dirty flag; vanished entries are
// erased. Errors: errno-derived codes naming the entry or the layer file.
Result<BuiltLayer> BuildLayer(int volume_fd, std::vector<IndexEntry>& entries,
                              const IndexDiff& diff, int out_fd, const LayerBuildOptions& options);

}  // namespace cricket::storage::volumes
