#pragma once

// What the shim asks of an OCI runtime, behind one interface with two backends: Cricket's own,
// in this process (oci::Runtime: no extra exec per call), and an external binary with runc's
// command line (runc, crun, ...) for a runtime handler configured with a `path`. Both create
// the container init with the shim's current stdio (see ShimServer::WithStdio); with the
// external one, the init is reparented to the shim (a child subreaper) when the runtime exits.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_manager.h"
#include "oci/spec.h"
#include "oci/state.h"

namespace cricket::shim {

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // The init's pid. `console_socket` (may be empty) receives the pty master of a terminal.
  virtual Result<pid_t> Create(const std::string& id, const std::string& bundle,
                               const std::string& console_socket) = 0;
  virtual Result<void> Start(const std::string& id) = 0;
  // Status, pid and whether the kernel OOM-killed a process of the container.
  virtual Result<oci::ContainerState> State(const std::string& id) = 0;
  // The container's cgroup, for the shim's OOM watch (shim/oom_watch.h).
  virtual Result<std::unique_ptr<oci::CgroupManager>> Cgroup(const std::string& id) = 0;
  virtual Result<void> Kill(const std::string& id, int signal, bool all) = 0;
  // The exec'd process's pid; it is (or becomes) a child of this process.
  virtual Result<pid_t> Exec(const std::string& id, const oci::Process& process,
                             const std::string& console_socket) = 0;
  virtual Result<void> Delete(const std::string& id, bool force) = 0;
  // New cgroup limits for a created or running container (UpdateContainerResources).
  virtual Result<void> Update(const std::string& id, const oci::Resources& resources) = 0;
  // CRIU (oci/criu.h): dumps the running container into `image_dir` / makes container `id`
  // from such images with the caller's current stdio, running (returns the init's pid, a child
  // of this process). kFailedPrecondition naming why when criu is missing or does not work.
  virtual Result<void> Checkpoint(const std::string& id, const std::string& image_dir,
                                  bool leave_running) = 0;
  virtual Result<pid_t> Restore(const std::string& id, const std::string& bundle,
                                const std::string& image_dir) = 0;
};

// The one place that decides which backend runs a container: an empty `binary` is Cricket's own
// runtime, in this process; otherwise `binary` with runc's command line (NewExternalRuntime).
// The shim calls it for its container; cricketd (cri/runtime_handlers.h ContainerRuntimeFor)
// for the calls it makes without a shim.
std::unique_ptr<ContainerRuntime> NewContainerRuntime(Syscalls& sys, std::string binary,
                                                      std::string root, std::string work_dir,
                                                      oci::CgroupInfo cgroups);

std::unique_ptr<ContainerRuntime> NewInProcessRuntime(Syscalls& sys, const std::string& root,
                                                      oci::CgroupInfo cgroups);

// `binary` with runc's flags, its state under `root`. Its log (JSON lines, whose last error an
// error here carries), pid files and exec process files go to `work_dir` (the shim's state dir;
// made when missing).
std::unique_ptr<ContainerRuntime> NewExternalRuntime(Syscalls& sys, std::string binary,
                                                     std::string root, std::string work_dir,
                                                     oci::CgroupInfo cgroups);

// The argv of one external runtime call: `<binary> --root R --log L --log-format json <args>`.
std::vector<std::string> ExternalRuntimeArgv(const std::string& binary, const std::string& root,
                                             const std::string& log_file,
                                             const std::vector<std::string>& args);

}  // namespace cricket::shim
