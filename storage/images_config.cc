#include "storage/images_config.h"

#include "common/toml_section.h"

namespace cricket::storage {
namespace {

Result<void> SetImagesKey(std::string_view key, const toml::node& node, ImagesConfig& images) {
  if (key == "pinned") {
    CR_ASSIGN_OR_RETURN(images.pinned, TomlStringList(node));
    return Ok();
  }
  if (key == "max_parallel_downloads") {
    CR_ASSIGN_OR_RETURN(images.max_parallel_downloads, TomlIntIn(node, 1, 32));
    return Ok();
  }
  if (key == "pin_imported") {
    CR_ASSIGN_OR_RETURN(images.pin_imported, TomlBool(node));
    return Ok();
  }
  int64_t* cap = key == "max_layer_uncompressed_bytes" ? &images.max_layer_uncompressed_bytes
                 : key == "max_layer_entries"          ? &images.max_layer_entries
                                                       : nullptr;
  if (cap == nullptr) {
    return UnknownKey();
  }
  // Caps are 64-bit (tens of GiB), beyond TomlIntIn's int.
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < 1) {
    return Error(Code::kInvalidArgument, "expected a positive integer");
  }
  *cap = value->get();
  return Ok();
}

Result<void> SetRegistryKey(std::string_view key, const toml::node& node,
                            RegistryHostConfig& host) {
  if (key == "mirrors") {
    CR_ASSIGN_OR_RETURN(host.mirrors, TomlStringList(node));
    return Ok();
  }
  if (key == "mirror_only") {
    CR_ASSIGN_OR_RETURN(host.mirror_only, TomlBool(node));
    return Ok();
  }
  if (key == "insecure") {
    CR_ASSIGN_OR_RETURN(host.insecure, TomlBool(node));
    return Ok();
  }
  return UnknownKey();
}

}  // namespace

Result<void> ApplyImagesToml(const toml::table& section, std::string_view source,
                             ImagesConfig& config) {
  return ApplyKeys(source, "images", section, [&](std::string_view key, const toml::node& node) {
    return SetImagesKey(key, node, config);
  });
}

toml::table ImagesToToml(const ImagesConfig& config) {
  return toml::table{{"pinned", ToTomlArray(config.pinned)},
                     {"max_parallel_downloads", config.max_parallel_downloads},
                     {"max_layer_uncompressed_bytes", config.max_layer_uncompressed_bytes},
                     {"max_layer_entries", config.max_layer_entries},
                     {"pin_imported", config.pin_imported}};
}

Result<void> ApplyRegistryToml(const toml::table& section, std::string_view source,
                               std::map<std::string, RegistryHostConfig>& hosts) {
  // [registry."registry.k8s.io"] mirrors = [...]: one sub-table per registry domain.
  return ApplyNamedTables(
      source, "registry", section, "expected a table of registry settings",
      /*allow_empty_name=*/true,
      [&](const std::string& domain, const std::string& prefix, const toml::table& table) {
        RegistryHostConfig& host = hosts[domain];
        return ApplyKeys(source, prefix, table, [&](std::string_view key, const toml::node& node) {
          return SetRegistryKey(key, node, host);
        });
      });
}

toml::table RegistryToToml(const std::map<std::string, RegistryHostConfig>& hosts) {
  toml::table out;
  for (const auto& [domain, host] : hosts) {
    out.insert(domain, toml::table{{"mirrors", ToTomlArray(host.mirrors)},
                                   {"mirror_only", host.mirror_only},
                                   {"insecure", host.insecure}});
  }
  return out;
}

}  // namespace cricket::storage
