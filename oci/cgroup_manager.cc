#include "oci/cgroup_manager.h"

namespace cricket::oci {

Result<std::string> CgroupPathFor(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) {
    return "/cricket/" + id;
  }
  if (cgroups_path.find(':') != std::string::npos) {
    return Error(Code::kUnimplemented,
                 "linux.cgroupsPath: \"" + cgroups_path +
                     "\" is the systemd driver's form; only the cgroupfs driver is implemented");
  }
  if (cgroups_path.find("..") != std::string::npos) {
    return Error(Code::kInvalidArgument, "linux.cgroupsPath: must not contain \"..\"");
  }
  return cgroups_path[0] == '/' ? cgroups_path : "/" + cgroups_path;
}

std::unique_ptr<CgroupManager> NewCgroupManager(Syscalls& sys, const CgroupInfo& info,
                                                const std::string& path) {
  if (info.mode == CgroupMode::kV2) {
    return NewCgroupV2Manager(sys, info.unified_mount, path);
  }
  return NewCgroupV1Manager(sys, info, path);
}

}  // namespace cricket::oci
