#pragma once

// CgroupManager: one container's cgroup with the cgroupfs driver. Two backends behind one
// interface, chosen by NewCgroupManager from the detected mode: cgroup_v1.cc (one directory per
// v1 hierarchy; also the hybrid case) and cgroup_v2.cc (the unified tree), sharing Create and
// Update through cgroup_backend.h. Both touch only files below the mount points in CgroupInfo,
// through the Syscalls seam, so unit tests point them at a temp dir. Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"
#include "oci/cgroup_detect.h"
#include "oci/spec.h"

namespace cricket::oci {

// How long Freeze waits for the kernel to report the new state.
inline constexpr std::chrono::seconds kFreezeWait{30};

// Usage figures for CRI ContainerStats and `events --stats`; 0 where a controller is absent.
struct CgroupStats {
  uint64_t cpu_usage_ns = 0;
  uint64_t memory_usage_bytes = 0;
  // usage minus inactive file cache: what kubelet calls the working set.
  uint64_t memory_working_set_bytes = 0;
  uint64_t memory_limit_bytes = 0;  // 0: unlimited
  uint64_t pids_current = 0;
  uint64_t oom_kills = 0;
  // For CRI metrics (cAdvisor's container_cpu_user/system_seconds_total, container_memory_rss,
  // _cache, _failcnt). v1: cpuacct.stat (converted from USER_HZ ticks), memory.stat total_rss and
  // total_cache, memory.failcnt; v2: cpu.stat user/system_usec, memory.stat anon and file,
  // memory.events "max" (times usage hit memory.max).
  uint64_t cpu_user_ns = 0;
  uint64_t cpu_system_ns = 0;
  uint64_t memory_rss_bytes = 0;
  uint64_t memory_cache_bytes = 0;
  uint64_t memory_failcnt = 0;
};

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  // The cgroup path below each mount point ("/crtest-1-x").
  virtual const std::string& path() const = 0;
  // Creates the cgroup directories (parents too) and writes the resource limits. On failure
  // the directories this call created are removed again.
  virtual Result<void> Create(const Resources* resources) = 0;
  // Rewrites the limits of an existing cgroup (CRI UpdateContainerResources, `update`).
  // Device rules are left as they are.
  virtual Result<void> Update(const Resources& resources) = 0;
  // Freezes (true) or thaws every process of the cgroup and waits until the kernel says so.
  // kFailedPrecondition when there is no freezer (v1 without the freezer hierarchy).
  // Waits by time (kFreezeWait), not by a count of tries: a loaded node is slow to freeze.
  virtual Result<void> Freeze(bool frozen) = 0;
  virtual Result<bool> Frozen() const = 0;
  // The directory whose freezer state Freeze sets (v2: the cgroup's own, cgroup.freeze; v1: the
  // freezer hierarchy's, freezer.state), as criu's --freeze-cgroup takes it; empty without one.
  virtual std::string FreezerDir() const = 0;
  // Moves pid into the cgroup (cgroup.procs of every hierarchy).
  virtual Result<void> AddProcess(pid_t pid) = 0;
  // Files a single-threaded process writes "0" to in order to move itself in (v1: each
  // hierarchy's `tasks`). Moving oneself that way skips the kernel's global threadgroup lock,
  // whose RCU grace period makes a cgroup.procs write cost ~10 ms. Empty: use AddProcess.
  virtual std::vector<std::string> SelfJoinFiles() const = 0;
  // v2: the cgroup directory opened for clone3(CLONE_INTO_CGROUP), which starts a child in the
  // cgroup without any migration. Invalid fd where that does not apply (v1).
  virtual Result<UniqueFd> OpenForClone() const = 0;
  // Pids in the cgroup (empty when it does not exist).
  virtual Result<std::vector<pid_t>> Pids() const = 0;
  virtual Result<CgroupStats> Stats() const = 0;
  // True when the kernel OOM-killed a process of this cgroup.
  virtual Result<bool> OomKilled() const = 0;
  // The file whose inotify IN_MODIFY signals a new OOM kill while the cgroup exists (v2:
  // memory.events), watched by the shim (shim/oom_watch.h); empty where there is none (v1).
  virtual std::string OomEventsFile() const = 0;
  // Removes the cgroup directories. Missing ones are fine; kFailedPrecondition (EBUSY) while
  // processes remain.
  virtual Result<void> Destroy() = 0;
};

// The cgroupfs driver's paths: "/crtest/x" as given, "" -> "/cricket/<id>", "a/b" -> "/a/b".
// kInvalidArgument for the systemd driver's "slice:prefix:name" form.
Result<std::string> CgroupPathFor(const std::string& cgroups_path, const std::string& id);

// As above when !info.systemd_driver. With the systemd driver: runc's `slice:prefix:name` form
// (oci/cgroup_systemd.h), mapped to its unit's cgroupfs path, which the cgroupfs backends then
// use (systemd delegates the scope to us). The unit must be running already: the runtime is
// linked statically and has no sd-bus (oci/README.md "systemd cgroup driver"); cricketd starts
// it. kFailedPrecondition naming the unit when its cgroup is missing under `info`'s mounts.
Result<std::string> CgroupPathFor(const std::string& cgroups_path, const std::string& id,
                                  const CgroupInfo& info);

// v2 when the node is unified-only, v1 otherwise (hybrid nodes put controllers on v1).
std::unique_ptr<CgroupManager> NewCgroupManager(Syscalls& sys, const CgroupInfo& info,
                                                const std::string& path);
std::unique_ptr<CgroupManager> NewCgroupV1Manager(Syscalls& sys, const CgroupInfo& info,
                                                  const std::string& path);
std::unique_ptr<CgroupManager> NewCgroupV2Manager(Syscalls& sys, const std::string& unified_mount,
                                                  const std::string& path);

}  // namespace cricket::oci
