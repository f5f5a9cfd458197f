#include "oci/cgroup_manager.h"

#include <sys/stat.h>

#include "oci/cgroup_systemd.h"

namespace cricket::oci {
namespace {

// The directory of `path` in one hierarchy systemd manages: the unified tree on v2, else the
// first v1 hierarchy with a controller (systemd creates a scope's cgroup in each of them).
std::string ManagedDir(const CgroupInfo& info, const std::string& path) {
  if (info.mode == CgroupMode::kV2 || info.v1.empty()) {
    return info.unified_mount + path;
  }
  for (const auto& h : info.v1) {
    if (!h.controllers.empty()) {
      return h.mount_point + path;
    }
  }
  return info.v1.front().mount_point + path;
}

}  // namespace

Result<std::string> CgroupPathFor(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) {
    return "/cricket/" + id;
  }
  if (cgroups_path.find(':') != std::string::npos) {
    return Error(Code::kInvalidArgument,
                 "linux.cgroupsPath: \"" + cgroups_path +
                     "\" is the systemd driver's form; the runtime uses the cgroupfs driver "
                     "(cricket-runtime --systemd-cgroup selects systemd)");
  }
  if (cgroups_path.find("..") != std::string::npos) {
    return Error(Code::kInvalidArgument, "linux.cgroupsPath: must not contain \"..\"");
  }
  return cgroups_path[0] == '/' ? cgroups_path : "/" + cgroups_path;
}

Result<std::string> CgroupPathFor(const std::string& cgroups_path, const std::string& id,
                                  const CgroupInfo& info) {
  if (!info.systemd_driver) {
    return CgroupPathFor(cgroups_path, id);
  }
  CR_ASSIGN_OR_RETURN(SystemdCgroup unit, ParseSystemdCgroupsPath(cgroups_path, id));
  struct stat st {};
  std::string dir = ManagedDir(info, unit.path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(Code::kFailedPrecondition,
                 "linux.cgroupsPath: systemd unit " + unit.unit + " (in " + unit.slice +
                     ") is not running (no " + dir +
                     "): cricket-runtime is linked statically, without sd-bus, and only joins a "
                     "unit its caller started (cricketd does)");
  }
  return unit.path;
}

std::unique_ptr<CgroupManager> NewCgroupManager(Syscalls& sys, const CgroupInfo& info,
                                                const std::string& path) {
  if (info.mode == CgroupMode::kV2) {
    return NewCgroupV2Manager(sys, info.unified_mount, path);
  }
  return NewCgroupV1Manager(sys, info, path);
}

}  // namespace cricket::oci
