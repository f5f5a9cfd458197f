#pragma once

// The criu command lines of a container checkpoint and restore, decided from the spec alone
// (pure: unit-tested without root or criu). What they follow, as runc does:
//  - bind mounts come from outside the container's mount namespace: each is declared external
//    on dump (`--external mnt[DEST]:DEST`) and bound to its source again on restore
//    (`--external mnt[DEST]:SOURCE`), so a volume or /etc/hosts is not copied into the image;
//  - a joined network namespace (the pod's) is external: `--external net[INODE]:extRootNetNS`
//    on dump, `--inherit-fd fd[N]:extRootNetNS` (an open fd of the new pod's netns) on restore;
//  - stdio pipes (the shim's) are external: on restore `--inherit-fd fd[i]:pipe:[INODE]` binds
//    the container's fd i to the restoring process's fd i (runc's descriptors.json);
//  - restore detaches (`-d`) and makes the restored init a sibling of criu (`--restore-sibling`),
//    so the caller (the shim, a subreaper) is its parent and reaps it;
//  - cgroups are the runtime's: criu is started inside the container's cgroup and told to leave
//    cgroups alone (`--manage-cgroups=ignore`).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace cricket::oci {

inline constexpr const char* kCriuNetnsKey = "extRootNetNS";
inline constexpr const char* kDumpLog = "dump.log";
inline constexpr const char* kRestoreLog = "restore.log";
// The container's stdio at dump time (runc's file name and shape: a JSON list of 3 strings,
// /proc/PID/fd/{0,1,2} link targets).
inline constexpr const char* kDescriptorsFile = "descriptors.json";

struct DumpPlan {
  pid_t pid = 0;
  std::string images_dir;
  std::string work_dir;
  bool leave_running = false;
  std::optional<uint64_t> netns_inode;  // the joined network namespace's inode
  // A paused container's freezer dir (CgroupManager::FreezerDir), for --freeze-cgroup: criu
  // then seizes the frozen tasks through the freezer, thaws the cgroup only while they are
  // seized, and leaves it frozen as it found it (runc passes it the same way). Empty: criu
  // stops the running tasks with ptrace alone.
  std::string freeze_cgroup;
};

struct RestorePlan {
  std::string images_dir;
  std::string work_dir;
  std::string rootfs;                    // absolute
  std::string pidfile;                   // criu writes the restored init's pid here
  int netns_fd = -1;                     // an open fd of the network namespace to join, or -1
  std::vector<std::string> descriptors;  // from kDescriptorsFile; may be empty
};

// True for a mount the runtime binds in from the host (type or options "bind"/"rbind").
bool IsBindMount(const Mount& mount);

std::vector<std::string> CriuDumpArgs(const Spec& spec, const DumpPlan& plan);
std::vector<std::string> CriuRestoreArgs(const Spec& spec, const RestorePlan& plan);

}  // namespace cricket::oci
