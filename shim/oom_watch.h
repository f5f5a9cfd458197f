#pragma once

// OomWatch: remembers that the kernel OOM-killed a process of the container while it ran.
//
// Reading memory.events after the init has exited is too late under the systemd cgroup driver:
// systemd removes a scope's cgroup as soon as its last process is gone, often before the shim
// has reaped the init, and the kill is lost (issue #15: reason "Error" instead of "OOMKilled").
// cgroup v2 signals every change of memory.events to inotify as IN_MODIFY (containerd and CRI-O
// watch it the same way), and the OOM killer counts oom_kill before its victim dies. So the shim
// polls one inotify fd and reads the counter on each change, while the cgroup still exists.
// A kill that lands on any process of the cgroup (a child of the init too) counts.
//
// No thread and no timer: one fd in the shim's poll set. Where the cgroup has no such file
// (v1: CgroupManager::OomEventsFile is empty) the watch is inactive (fd() is -1) and the read
// at exit stays the only source, as before. Not thread-safe.

#include <memory>

#include "common/result.h"
#include "common/unique_fd.h"
#include "oci/cgroup_manager.h"

namespace cricket::shim {

class OomWatch {
 public:
  // Watches `cgroup`'s events file. kNotFound (or another errno code) when that file cannot be
  // watched; an inactive watch, not an error, when the cgroup has none.
  static Result<OomWatch> Start(std::unique_ptr<oci::CgroupManager> cgroup);

  // Poll this fd for POLLIN and call OnReadable; -1 when inactive.
  int fd() const { return inotify_.get(); }
  // Drains the pending notifications and reads the counter.
  void OnReadable();
  // True once a kill was seen. Drains and reads once more first: at the init's exit a kill whose
  // notification is still queued counts (the counter rises before the victim dies).
  bool Killed();

 private:
  OomWatch(std::unique_ptr<oci::CgroupManager> cgroup, UniqueFd inotify)
      : cgroup_(std::move(cgroup)), inotify_(std::move(inotify)) {}

  std::unique_ptr<oci::CgroupManager> cgroup_;
  UniqueFd inotify_;
  bool killed_ = false;
};

}  // namespace cricket::shim
