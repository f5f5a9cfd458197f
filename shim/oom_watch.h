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
// That alone still loses a kill whose notification the kernel delivers late (it comes from a
// workqueue) when systemd is quicker to remove the scope: the race CRI-O and containerd know
// and accept (cri-o/cri-o#7035). Cricket closes it where it can tell: the scope's parent, the
// pod's slice, counts every kill below it (oom_kill is hierarchical) and outlives the container.
// The watch keeps a baseline, taken whenever its own read works: the slice's count and each
// sibling scope's (the pod's other containers). When the container's cgroup is gone at the
// exit, a rise of the slice's count that no sibling's rise explains is this container's kill.
// When a sibling of the baseline is gone too, its kills cannot be told apart: no kill is
// claimed. Only for a parent named `*.slice`: under the cgroupfs driver nobody else removes
// the cgroup, and its parent is shared by every pod of the node.
//
// No thread and no timer: one fd in the shim's poll set (watching the scope's and the slice's
// memory.events). Where the cgroup has no such file (v1: CgroupManager::OomEventsFile is empty)
// the watch is inactive (fd() is -1) and the read at exit stays the only source, as before.
// Not thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

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
  // notification is still queued counts (the counter rises before the victim dies). When the
  // cgroup is gone by then, the pod slice's counts decide (above).
  bool Killed();

 private:
  // oom_kill of the slice and of each of the container's siblings in it, by directory name.
  struct PodCounts {
    uint64_t slice = 0;
    std::map<std::string, uint64_t> siblings;
  };

  OomWatch(std::unique_ptr<oci::CgroupManager> cgroup, UniqueFd inotify, std::string slice_dir,
           std::string name)
      : cgroup_(std::move(cgroup)),
        inotify_(std::move(inotify)),
        slice_dir_(std::move(slice_dir)),
        name_(std::move(name)) {}

  // The siblings' counts, then the slice's (in that order: a sibling's kill between the two
  // reads is then in the slice's count but not in its own, so it can only hide a kill, never
  // invent one). nullopt when the slice's count cannot be read.
  std::optional<PodCounts> ReadPodCounts() const;
  // A rise of the slice's count since the baseline that no sibling's rise explains.
  bool KilledBySliceCounts() const;

  std::unique_ptr<oci::CgroupManager> cgroup_;
  UniqueFd inotify_;
  std::string slice_dir_;  // the parent's directory when it is a systemd slice, else empty
  std::string name_;       // the container's directory name in it
  std::optional<PodCounts> baseline_;
  bool killed_ = false;
  bool gone_ = false;  // the container's own counter could not be read at the last try
};

}  // namespace cricket::shim
