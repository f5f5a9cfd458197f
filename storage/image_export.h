#pragma once

// ExportImage (cricketctl images export): one stored image as an OCI image layout tar
// (image-spec image-layout.md: oci-layout, index.json, blobs/sha256/<hex>), which
// ImageStore::Import reads back and other tools (containerd's `ctr import`, skopeo) accept.
// index.json has one entry per tag of the image (none when untagged), each annotated like
// containerd's export: io.containerd.image.name = the full name, org.opencontainers.image.ref.name
// = its tag. Only this node's platform manifest is written, never an index naming manifests the
// store does not have.
// Thread-safe like ImageStore. An image removed while it is exported fails the export
// (kNotFound naming the blob).

#include <string>

#include "common/result.h"
#include "storage/image_archive.h"
#include "storage/image_store.h"

namespace cricket::storage {

// Writes the tar to `sink`. kNotFound for an unknown image; sink errors as they are.
Result<void> ExportImage(ImageStore& store, const std::string& ref_or_id, const ByteSink& sink);

}  // namespace cricket::storage
