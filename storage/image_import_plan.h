#pragma once

// PlanImport: what a staged image archive (storage/image_archive.h) holds, checked before any of
// it is stored. Pure: reads only the staged files; unit-tested without root.
//
// Two formats, told apart by their top-level files:
//  - OCI image layout (image-spec image-layout.md): oci-layout + index.json + blobs/sha256/<hex>.
//    Names come from each index.json entry's annotations: containerd's io.containerd.image.name,
//    else org.opencontainers.image.ref.name when it is a full reference (a bare tag such as
//    "latest" names no repository and is ignored). A nested index is resolved to this node's
//    platform; index entries for other platforms are skipped.
//  - `docker save` (Docker's legacy layout): manifest.json = [{Config, RepoTags, Layers}]. The
//    config's and layers' digests are computed here; an uncompressed layer must hash to its
//    config's diff_id. The manifest Cricket stores for it is an OCI manifest made here.
// Verification: every file named blobs/sha256/<hex> must hash to that name, and every
// descriptor's size must match its blob (kDataLoss naming the blob); a blob a document names
// but the archive lacks is kInvalidArgument naming it; neither layout -> kInvalidArgument.

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/image_archive.h"
#include "storage/manifest.h"

namespace cricket::storage {

struct PlannedImage {
  std::vector<std::string> names;  // normalised tags, "docker.io/library/busybox:latest"
  std::string target_digest;       // what the archive names (index or manifest)
  std::string manifest_digest;     // this platform's manifest
  ImageManifest manifest;
  ImageConfig config;
  // The archive's manifest is what a registry would serve (OCI); a docker-save image's manifest
  // is made by the import, so no repo digest is claimed for it.
  bool registry_manifest = true;
  int64_t size_bytes = 0;          // manifest + config + layers
  std::vector<std::string> blobs;  // target, manifest, config, layers (for GC)
};

struct ImportPlan {
  std::string format;  // "oci" or "docker-save"
  std::vector<PlannedImage> images;
  // Every blob to store: digest -> staged file.
  std::map<std::string, StagedFile> blobs;
  // Blobs made by the import (docker-save manifests): digest -> content.
  std::map<std::string, std::string> made;
};

Result<ImportPlan> PlanImport(const StagedArchive& archive, const Platform& platform);

}  // namespace cricket::storage
