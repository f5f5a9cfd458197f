#pragma once

// The systemd cgroup driver on cricketd's side (cgroup_driver = "systemd", issue #15).
//
// kubelet's cgroup_parent is a slice ("kubepods-burstable-pod<uid>.slice"); each container (the
// pod's infra process too) lives in a transient scope `cricket-<id>.scope` in it, started over
// D-Bus with Delegate=yes and the container's limits as unit properties (oci/cgroup_systemd.h).
// cricketd starts the scopes because it is the one process linked against libsystemd (Debian
// ships no archive of it; cricket-shim and cricket-runtime are static): the shim's runtime is
// handed the scope's cgroupfs path in config.json and uses it as a delegated cgroup, writing
// the cgroup files (also those systemd has no property for).
//
// systemd starts no scope without a process, and the container's init must be born in its cgroup
// (its cgroup namespace is rooted where it is at unshare time). So a scope is started around a
// placeholder: a child of cricketd that only waits, moved in by StartTransientUnit's PIDs; the
// shim is launched; the placeholder is killed once the init is in. A scope whose processes are
// all gone is removed by systemd itself; Stop (RemoveContainer) stops it explicitly and waits.
//
// NewSystemdShims wraps the daemon's ShimAccess so that this happens on every Launch and Delete;
// UpdateContainerResources calls Update. Thread-safe.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "common/result.h"
#include "cri/config.h"
#include "cri/shim_access.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_systemd.h"
#include "oci/spec.h"
#include "oci/systemd_bus.h"

namespace cricket::cri {

// The pod's cgroup_parent as stored: as given under cgroupfs; under systemd a slice name, the
// default `cricket.slice` when kubelet (or crictl) gives none. kInvalidArgument naming
// linux.cgroup_parent for a parent the driver cannot use.
Result<std::string> PodCgroupParent(const std::string& cgroup_parent, CgroupDriver driver);

// Refuses (kFailedPrecondition, saying what to do) the systemd driver on a node whose PID 1 is
// not systemd: `run_systemd_dir` (/run/systemd/system, sd_booted's test) must be a directory.
Result<void> CheckSystemdDriverUsable(const std::string& run_systemd_dir = "/run/systemd/system");

// A child of cricketd that only waits (for SIGKILL, or for cricketd to die: PR_SET_PDEATHSIG);
// killed and reaped when dropped. Started by a raw clone: cricketd has threads and gRPC's
// pthread_atfork handlers, none of which a child that makes three syscalls needs.
class Placeholder {
 public:
  static Result<Placeholder> Spawn();
  Placeholder(Placeholder&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  Placeholder& operator=(Placeholder&&) = delete;
  Placeholder(const Placeholder&) = delete;
  Placeholder& operator=(const Placeholder&) = delete;
  ~Placeholder();
  pid_t pid() const { return pid_; }

 private:
  explicit Placeholder(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

class SystemdScopes {
 public:
  SystemdScopes(oci::SystemdBus& bus, oci::CgroupMode mode,
                std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : bus_(bus), mode_(mode), timeout_(timeout) {}

  // Starts the scope with a placeholder process in it; drop the placeholder once the container's
  // init is in the scope. On error nothing is left.
  Result<Placeholder> Start(const oci::SystemdCgroup& scope, const oci::Resources* resources);
  // SetUnitProperties with the limits systemd has properties for. A path that is not a scope
  // (a pod made under the cgroupfs driver) is left alone.
  Result<void> Update(const std::string& cgroup_path, const oci::Resources& resources);
  // The same on a pod's slice ("kubepods-pod<uid>.slice"; UpdatePodSandboxResources).
  Result<void> UpdateSlice(const std::string& slice, const oci::Resources& resources);
  // StopUnit and waits until systemd has dropped it; Ok when it is gone already.
  Result<void> Stop(const std::string& cgroup_path);

 private:
  oci::SystemdBus& bus_;
  oci::CgroupMode mode_;
  std::chrono::milliseconds timeout_;
};

// `inner` with Launch starting the bundle's scope first (when its linux.cgroupsPath is one)
// and remembering it in the shim's state dir (file `systemd-scope`), and Delete (also of a shim
// that is gone) stopping it. `inner` and `scopes` must outlive the result.
std::unique_ptr<ShimAccess> NewSystemdShims(ShimAccess& inner, SystemdScopes& scopes);

// The scope remembered in a shim's state dir; kNotFound when there is none.
Result<std::string> RememberedScope(const std::string& shim_dir);

}  // namespace cricket::cri
