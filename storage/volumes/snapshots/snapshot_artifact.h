#pragma once

// The OCI artifact a volume snapshot is stored as (image-spec v1.1 "artifacts" guidance): an
// image manifest whose artifactType and config media type are Cricket's own, so no runtime
// mistakes it for a runnable image, and whose layers are ordinary OCI tar(+zstd) layers listed
// base to head (restore applies them in order; whiteouts mark deletions).
//
//   manifest  mediaType  application/vnd.oci.image.manifest.v1+json
//             artifactType application/vnd.cricket.volume.snapshot.v1
//             config     application/vnd.cricket.volume.config.v1+json
//             layers     application/vnd.oci.image.layer.v1.tar+zstd (or .tar)
//             annotations io.cricket.volume.parent, org.opencontainers.image.created
//   config    {"created", "parent", "root": {mode, uid, gid, mtime_ns}, "diff_ids": [...]}
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/manifest.h"
#include "storage/volumes/snapshots/volume_index.h"

namespace cricket::storage::volumes {

inline constexpr std::string_view kSnapshotArtifactType =
    "application/vnd.cricket.volume.snapshot.v1";
inline constexpr std::string_view kSnapshotConfigType =
    "application/vnd.cricket.volume.config.v1+json";

struct SnapshotConfig {
  std::string created;  // RFC 3339, UTC
  std::string parent;   // manifest digest of the previous snapshot, or ""
  RootAttributes root;
  std::vector<std::string> diff_ids;  // one per layer, base to head
};

std::string SerializeSnapshotConfig(const SnapshotConfig& config);
// kInvalidArgument naming the problem.
Result<SnapshotConfig> ParseSnapshotConfig(std::string_view body);

std::string SerializeSnapshotManifest(const Descriptor& config,
                                      const std::vector<Descriptor>& layers,
                                      const std::string& parent, const std::string& created);
// Parses an image manifest and checks it is a volume snapshot (kFailedPrecondition naming the
// config media type otherwise) with supported layer media types.
Result<ImageManifest> ParseSnapshotManifest(std::string_view body);

}  // namespace cricket::storage::volumes
