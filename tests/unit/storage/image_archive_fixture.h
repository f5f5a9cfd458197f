#pragma once

// Image archives built in memory for the import/export tests: an image made of tar layers, laid
// out as an OCI image layout or as a `docker save` tarball (entries, so a test can tamper with
// them before BuildLayer turns them into the tar).

#include <string>
#include <vector>

#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage::testing {

struct TestImage {
  std::string config;                 // image config JSON
  std::vector<std::string> layers;    // layer blobs as stored (compressed as asked)
  std::vector<std::string> diff_ids;  // sha256 of each uncompressed layer
  std::string manifest;               // OCI manifest JSON
};

// An image whose layers hold `layers` (each a list of entries), with Cmd ["/bin/app"].
TestImage MakeTestImage(const std::vector<std::vector<TarEntry>>& layers, Compression compression);

// oci-layout, index.json (one entry; annotated with `name` unless empty) and blobs/sha256/*.
std::vector<TarEntry> OciLayoutEntries(const TestImage& image, const std::string& name);
// manifest.json (RepoTags = {tag} unless empty), <hex>.json config, <n>/layer.tar layers. The
// layers of `image` must be uncompressed (as `docker save` writes them).
std::vector<TarEntry> DockerSaveEntries(const TestImage& image, const std::string& tag);

// "blobs/sha256/<hex>" of a digest.
std::string BlobPath(const std::string& digest);

}  // namespace cricket::storage::testing
