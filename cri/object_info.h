#pragma once

// What the CRI layer keeps about a sandbox or container beyond the CRI config: the `runtime`
// JSON of its MetadataStore record. Adding a field needs no schema migration.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::cri {

struct SandboxInfo {
  std::string state_dir;   // name files, infra bundle
  std::string netns_path;  // empty with host network
  std::vector<std::string> ips;
  bool host_network = false;
  pid_t infra_pid = 0;
  std::string infra_shim_dir;
  std::string resolv_conf;
  std::string hosts;
  std::string hostname_file;
  std::string hostname;
  std::string cgroup_parent;
  std::string log_directory;
  std::string runtime_handler;  // "" is Cricket's own runtime
};

// The identity a container's first process got, as CRI's ContainerStatus.user reports it.
struct ContainerUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> supplemental_groups;  // the spec's additional_gids

  bool operator==(const ContainerUser&) const = default;
};

struct ContainerInfo {
  std::string image_id;
  std::string image_name;  // as the config named it
  std::string log_path;
  std::string bundle;
  std::string shim_dir;
  bool tty = false;
  int stop_signal = 0;          // from the image's STOPSIGNAL, 0 for SIGTERM
  std::string runtime_handler;  // its pod's
  // Kept at create so statuses and events need not read the bundle's config.json; absent in
  // records written before it was kept.
  std::optional<ContainerUser> user;
};

std::string SandboxInfoToJson(const SandboxInfo& info);
// kDataLoss for a corrupt document.
Result<SandboxInfo> SandboxInfoFromJson(const std::string& text);
std::string ContainerInfoToJson(const ContainerInfo& info);
Result<ContainerInfo> ContainerInfoFromJson(const std::string& text);

}  // namespace cricket::cri
