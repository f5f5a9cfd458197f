#pragma once

// [images] and [registry."<domain>"] in cricketd's config.toml: the image service's settings.
// Parsed here, beside the code that uses them; cri/config.h gathers every section.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/toml_fwd.h"
#include "storage/registry_config.h"

namespace cricket::storage {

struct ImagesConfig {
  // References or image ids reported pinned, so kubelet's image GC never removes them.
  std::vector<std::string> pinned;
  int max_parallel_downloads = 3;
  // Decompression-bomb caps per layer (storage/layer_unpack.h): bytes of the uncompressed tar
  // stream and number of entries. A pull with a layer over either fails RESOURCE_EXHAUSTED.
  int64_t max_layer_uncompressed_bytes = int64_t{16} << 30;
  int64_t max_layer_entries = 1000000;
  // Images cricketd imports at start-up from <root>/images-import/ are reported pinned
  // (storage/image_import_dir.h).
  bool pin_imported = false;
};

// Applies the keys of the [images] table over `config`. kInvalidArgument
// "<source>: images.<key>: <why>" for an unknown key, a value of the wrong type or a bad value.
Result<void> ApplyImagesToml(const toml::table& section, std::string_view source,
                             ImagesConfig& config);

// The [images] table, every key.
toml::table ImagesToToml(const ImagesConfig& config);

// Applies the [registry] table, one sub-table per registry domain, over `hosts` (keyed by
// domain). kInvalidArgument "<source>: registry.\"<domain>\".<key>: <why>".
Result<void> ApplyRegistryToml(const toml::table& section, std::string_view source,
                               std::map<std::string, RegistryHostConfig>& hosts);

// The [registry] table: one sub-table per domain, every key.
toml::table RegistryToToml(const std::map<std::string, RegistryHostConfig>& hosts);

}  // namespace cricket::storage
