#include "storage/volumes/volumes_config.h"

#include <optional>

#include <fmt/format.h>

#include "common/toml_section.h"

namespace cricket::storage {
namespace {

Result<void> SetVolumesNumber(std::string_view key, const toml::node& node, VolumesConfig& v) {
  if (key == "lease_ttl_seconds") {
    CR_ASSIGN_OR_RETURN(v.lease_ttl_seconds, TomlIntIn(node, 1, 3600));
  } else if (key == "etcd_timeout_ms") {
    CR_ASSIGN_OR_RETURN(v.etcd_timeout_ms, TomlIntIn(node, 100, 600000));
  } else if (key == "squash_after_layers") {
    CR_ASSIGN_OR_RETURN(v.squash_after_layers, TomlIntIn(node, 1, 1000));
  } else {
    // Fractions allowed, so tests can snapshot every few hundred milliseconds.
    std::optional<double> seconds = node.value<double>();
    if (!seconds || *seconds < 0.05 || *seconds > 86400) {
      return Error(Code::kInvalidArgument, "expected a number of seconds from 0.05 to 86400");
    }
    v.snapshot_interval_seconds = *seconds;
  }
  return Ok();
}

Result<void> SetVolumesKey(std::string_view key, const toml::node& node, VolumesConfig& v) {
  if (key == "lease_ttl_seconds" || key == "etcd_timeout_ms" || key == "squash_after_layers" ||
      key == "snapshot_interval_seconds") {
    return SetVolumesNumber(key, node, v);
  }
  if (key == "etcd_endpoints") {
    CR_ASSIGN_OR_RETURN(v.etcd_endpoints, TomlStringList(node));
    return Ok();
  }
  std::string* field = key == "portable_root"         ? &v.portable_root
                       : key == "node_name"           ? &v.node_name
                       : key == "coordination"        ? &v.coordination
                       : key == "coordination_dir"    ? &v.coordination_dir
                       : key == "etcd_prefix"         ? &v.etcd_prefix
                       : key == "snapshot_store"      ? &v.snapshot_store
                       : key == "snapshot_dir"        ? &v.snapshot_dir
                       : key == "snapshot_repository" ? &v.snapshot_repository
                                                      : nullptr;
  if (field == nullptr) {
    return UnknownKey();
  }
  CR_ASSIGN_OR_RETURN(std::string value, TomlString(node));
  if (key == "coordination" && value != "local" && value != "etcd") {
    return Error(Code::kInvalidArgument, fmt::format("expected local or etcd, got \"{}\"", value));
  }
  if (key == "snapshot_store" && value != "dir" && value != "oci") {
    return Error(Code::kInvalidArgument, fmt::format("expected dir or oci, got \"{}\"", value));
  }
  if (key == "portable_root" ||
      ((key == "coordination_dir" || key == "snapshot_dir") && !value.empty())) {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
  }
  *field = value;
  if (key == "portable_root") {
    while (field->size() > 1 && field->back() == '/') {
      field->pop_back();
    }
  }
  return Ok();
}

}  // namespace

Result<void> ApplyVolumesToml(const toml::table& section, std::string_view source,
                              VolumesConfig& config) {
  return ApplyKeys(source, "volumes", section, [&](std::string_view key, const toml::node& node) {
    return SetVolumesKey(key, node, config);
  });
}

toml::table VolumesToToml(const VolumesConfig& v) {
  return toml::table{{"portable_root", v.portable_root},
                     {"node_name", v.node_name},
                     {"coordination", v.coordination},
                     {"coordination_dir", v.coordination_dir},
                     {"etcd_endpoints", ToTomlArray(v.etcd_endpoints)},
                     {"etcd_prefix", v.etcd_prefix},
                     {"etcd_timeout_ms", v.etcd_timeout_ms},
                     {"lease_ttl_seconds", v.lease_ttl_seconds},
                     {"snapshot_store", v.snapshot_store},
                     {"snapshot_dir", v.snapshot_dir},
                     {"snapshot_repository", v.snapshot_repository},
                     {"snapshot_interval_seconds", v.snapshot_interval_seconds},
                     {"squash_after_layers", v.squash_after_layers}};
}

}  // namespace cricket::storage
