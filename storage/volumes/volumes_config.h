#pragma once

// [volumes] in cricketd's config.toml: portable volumes that follow their pod to another node
// (#7). Parsed here, beside the code that uses them; cri/config.h gathers every section.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::storage {

struct VolumesConfig {
  // A CRI mount whose host_path is <portable_root>/<name> is the portable volume <name>.
  std::string portable_root = "/var/lib/cricket/portable";
  // This node's name in volume leases. Empty means the host name.
  std::string node_name;
  std::string coordination = "local";  // "local" or "etcd"
  // local: the lock/token/head files; empty means <root>/volumes/coordination. Nodes sharing
  // it (on one machine or a shared filesystem with OFD locks) coordinate with each other.
  std::string coordination_dir;
  std::vector<std::string> etcd_endpoints;  // "http://127.0.0.1:2379"
  std::string etcd_prefix = "/cricket/volumes/";
  int etcd_timeout_ms = 3000;
  int lease_ttl_seconds = 10;
  std::string snapshot_store = "dir";  // "dir" or "oci"
  // dir: empty means <root>/volumes/store.
  std::string snapshot_dir;
  // oci: "host:port/repo"; volume <name> goes to <repo>/<name>.
  std::string snapshot_repository;
  double snapshot_interval_seconds = 30;
  int squash_after_layers = 8;
};

// Applies the keys of the [volumes] table over `config`. kInvalidArgument
// "<source>: volumes.<key>: <why>" for an unknown key, a value of the wrong type or a bad value.
Result<void> ApplyVolumesToml(const toml::table& section, std::string_view source,
                              VolumesConfig& config);

// The [volumes] table, every key.
toml::table VolumesToToml(const VolumesConfig& config);

}  // namespace cricket::storage
