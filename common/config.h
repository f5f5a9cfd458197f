#pragma once

// cricketd's configuration: built-in defaults, then /etc/cricket/config.toml (optional), then
// command-line flags. Every key has a working default.

#include <cstdint>
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

// [runtimes."<handler>"]: a CRI runtime handler (a Kubernetes RuntimeClass's `handler`). The
// default handler "" is Cricket's own runtime, in each shim's process.
struct RuntimeHandlerSettings {
  // An OCI runtime with runc's command line (runc, crun); empty: Cricket's own runtime.
  std::string path;
  // Its state root (--root); empty means <state>/runtimes/<handler>.
  std::string root;
};

// [images]: the image service (storage/).
struct ImagesConfig {
  // References or image ids reported pinned, so kubelet's image GC never removes them.
  std::vector<std::string> pinned;
  int max_parallel_downloads = 3;
  // Decompression-bomb caps per layer (storage/layer_unpack.h): bytes of the uncompressed tar
  // stream and number of entries. A pull with a layer over either fails RESOURCE_EXHAUSTED.
  int64_t max_layer_uncompressed_bytes = int64_t{16} << 30;
  int64_t max_layer_entries = 1000000;
};

// [streaming]: the HTTP endpoint of Exec/Attach/PortForward (cri/streaming/). kubelet connects
// to the URL the RPCs return, so it must be able to reach `address`.
struct StreamingConfig {
  // "<ip>:<port>" ("[<ipv6>]:<port>"); port 0 picks a free port at start-up.
  std::string address = "127.0.0.1:0";
  // Connections served at once; more are refused at once (HTTP 503), not queued.
  int max_connections = 128;
};

// [volumes]: portable volumes that follow their pod to another node (storage/volumes, #7).
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
  NetworkConfig network;
  ImagesConfig images;
  StreamingConfig streaming;
  VolumesConfig volumes;
  std::map<std::string, RegistryHostSettings> registries;  // keyed by domain
  std::map<std::string, RuntimeHandlerSettings> runtimes;  // keyed by handler name

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
