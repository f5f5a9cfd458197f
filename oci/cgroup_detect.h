#pragma once

// Which cgroup hierarchy this node runs: v1 (legacy), hybrid (v1 controllers plus an empty v2
// tree, as on this project's development hosts) or v2 (unified). Read from mountinfo, so tests
// feed it text.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket::oci {

enum class CgroupMode { kV1, kHybrid, kV2 };

struct CgroupInfo {
  CgroupMode mode = CgroupMode::kV1;
  // Mount point of the cgroup2 tree, empty on pure v1.
  std::string unified_mount;
  // v1 hierarchies: each mount point with the controllers bound to it (sorted by mount point).
  struct V1Hierarchy {
    std::string mount_point;
    std::vector<std::string> controllers;
  };
  std::vector<V1Hierarchy> v1;
  // The systemd driver is in use (cricket-runtime --systemd-cgroup): cgroupsPath has runc's
  // `slice:prefix:name` form (CgroupPathFor). Not detected: the caller's choice.
  bool systemd_driver = false;
};

std::string_view CgroupModeName(CgroupMode mode);

// Parses /proc/self/mountinfo text. kFailedPrecondition when no cgroup filesystem is mounted.
Result<CgroupInfo> ParseCgroupMounts(std::string_view mountinfo);

// ParseCgroupMounts of /proc/self/mountinfo.
Result<CgroupInfo> DetectCgroups();

}  // namespace cricket::oci
