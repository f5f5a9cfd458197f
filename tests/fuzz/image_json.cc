// Image manifest, index and config JSON as a registry (or a volume snapshot store) serves them:
// every parser gets every input, since a hostile registry chooses the media type too.

#include <cstdint>
#include <string_view>

#include "storage/manifest.h"
#include "storage/volumes/snapshots/snapshot_artifact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cricket::storage;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)ManifestMediaType(body, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  if (auto index = ParseIndex(body); index.ok()) {
    (void)SelectPlatform(*index, HostPlatform());
  }
  (void)ParseImageManifest(body);
  (void)ParseImageConfig(body);
  (void)volumes::ParseSnapshotManifest(body);
  return 0;
}
