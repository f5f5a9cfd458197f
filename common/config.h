#pragma once

// cricketd's configuration: built-in defaults, then /etc/cricket/config.toml (optional), then
// command-line flags. Every key has a working default.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"

namespace cricket {

enum class CgroupDriver { kCgroupfs, kSystemd };

std::string_view CgroupDriverName(CgroupDriver driver);

// [network]: how pods get their network (network/).
struct NetworkConfig {
  // "auto": a CNI chain when cni_conf_dir holds a configuration, else the built-in bridge.
  std::string backend = "auto";
  std::string bridge = "cricket0";
  std::string subnet = "10.88.0.0/16";
  int mtu = 1500;
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
};

// [registry."<domain>"]: per-registry settings (storage/).
struct RegistryHostSettings {
  std::vector<std::string> mirrors;  // endpoint URLs, tried in order before the origin
  bool mirror_only = false;          // never fall back to the origin
  bool insecure = false;             // plain HTTP / no TLS verification for this registry
};

// [images]: the image service (storage/).
struct ImagesConfig {
  // References or image ids reported pinned, so kubelet's image GC never removes them.
  std::vector<std::string> pinned;
  int max_parallel_downloads = 3;
};

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
  NetworkConfig network;
  ImagesConfig images;
  std::map<std::string, RegistryHostSettings> registries;  // keyed by domain

  // `listen`, or its default under `state`.
  std::string socket_path() const;
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/cricket/config.toml";

// Applies the TOML document `text` on top of `config`. `source` names the file in errors.
// kInvalidArgument naming the key for an unknown key, a value of the wrong type or a bad value.
Result<void> ApplyConfigToml(std::string_view text, std::string_view source, Config& config);

// The TOML rendering of `config` (what `Status` verbose reports and what a user may start from).
std::string ConfigToToml(const Config& config);

// Resolves cricketd's command line (argv without the program name): defaults, then the file from
// `--config` (must exist) or kDefaultConfigPath (may be missing), then the flags.
// `default_config_path` is a parameter so tests need not touch /etc.
Result<Config> ResolveConfig(const std::vector<std::string>& args,
                             std::string_view default_config_path = kDefaultConfigPath);

// One line per flag, for --help.
std::string ConfigUsage();

}  // namespace cricket
