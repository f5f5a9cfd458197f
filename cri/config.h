#pragma once

// cricketd's configuration: built-in defaults, then /etc/cricket/config.toml (optional) and its
// drop-ins (/etc/cricket/config.d/*.toml), then command-line flags. Every key has a working
// default.
//
// Each module owns its section (its settings struct, defaults and parser, beside its code); this
// file owns cricketd's own top-level keys and flags, and gathers the sections into one Config.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "common/toml_fwd.h"
#include "cri/config_dropins.h"
#include "cri/prometheus_config.h"
#include "cri/runtime_handler_config.h"
#include "cri/streaming/streaming_config.h"
#include "network/network_config.h"
#include "storage/images_config.h"
#include "storage/registry_config.h"
#include "storage/volumes/volumes_config.h"

namespace cricket::cri {

enum class CgroupDriver { kCgroupfs, kSystemd };

std::string_view CgroupDriverName(CgroupDriver driver);

struct Config {
  // Persistent data: metadata store, blobs, snapshots, volumes.
  std::string root = "/var/lib/cricket";
  // Runtime state that does not survive a reboot: socket, shim state, netns mounts.
  std::string state = "/run/cricket";
  // The gRPC unix socket. Empty means "<state>/cricket.sock".
  std::string listen;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  CgroupDriver cgroup_driver = CgroupDriver::kCgroupfs;
  // Loads Cricket's AppArmor profile for RuntimeDefault containers when a node lacks it.
  std::string apparmor_parser = "/sbin/apparmor_parser";
  network::NetworkConfig network;                                 // [network]
  storage::ImagesConfig images;                                   // [images]
  streaming::StreamingConfig streaming;                           // [streaming]
  storage::VolumesConfig volumes;                                 // [volumes]
  std::map<std::string, storage::RegistryHostConfig> registries;  // [registry."<domain>"]
  std::map<std::string, RuntimeHandlerSettings> runtimes;         // [runtimes."<handler>"]
  MetricsConfig metrics;                                          // [metrics]

  // `listen`, or its default under `state`.
  std::string socket_path() const;
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/cricket/config.toml";

// Applies a parsed TOML document on top of `config`: each section through its module's parser.
// `source` names the file in errors. kInvalidArgument naming the key for an unknown key or
// section, a value of the wrong type or a bad value.
Result<void> ApplyConfigTable(const toml::table& table, std::string_view source, Config& config);

// Parses the TOML document `text` and applies it (ApplyConfigTable); a syntax error is
// "<source>:<line>:<column>: <what>".
Result<void> ApplyConfigToml(std::string_view text, std::string_view source, Config& config);

// The TOML rendering of `config` (what a user may start from), every section and key.
std::string ConfigToToml(const Config& config);
// The same as a table (cri/config_reload.h compares two of them key by key).
toml::table ConfigToTable(const Config& config);

// Resolves cricketd's command line (argv without the program name): defaults, then the file from
// `--config` (must exist) or kDefaultConfigPath (may be missing), then its drop-ins
// (cri/config_dropins.h; `--config-dir`), then the flags; last, the path defaults under `root`
// follow the chosen root. `default_config_path` is a parameter so tests need not touch /etc.
// `sources`, when given, receives the files that were read.
Result<Config> ResolveConfig(const std::vector<std::string>& args,
                             std::string_view default_config_path = kDefaultConfigPath,
                             ConfigSources* sources = nullptr);

// One line per flag, for --help.
std::string ConfigUsage();

}  // namespace cricket::cri
