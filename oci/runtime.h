#pragma once

// Runtime: the OCI lifecycle (create, start, state, kill, delete) of containers whose state
// lives under a root directory (default /run/cricket/runtime/<id>/state.json). Used by the
// cricket-runtime CLI and, in-process, by the shim. Like runc, `Create` leaves the container's
// init waiting on <root>/<id>/exec.fifo; `Start` releases it into execve.
// Not thread-safe; one Runtime per process.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_manager.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "oci/stdio_options.h"

namespace cricket::oci {

inline constexpr const char* kDefaultRuntimeRoot = "/run/cricket/runtime";

struct ExecOptions {
  std::string console_socket;  // for process.terminal
  StdioOptions stdio;
  int console_fd = -1;  // a connected socket to use instead of console_socket
};

struct CreateOptions {
  std::string bundle;          // directory holding config.json
  std::string console_socket;  // unix socket to receive the pty master (process.terminal)
  StdioOptions stdio;
  int console_fd = -1;  // a connected socket to use instead of console_socket
  // Start the process as soon as it is ready, as `run` does, without the exec fifo and a
  // separate Start: the container comes back `running`. kInvalidArgument when the spec has
  // hooks (prestart and createRuntime must run before the process starts).
  bool start_now = false;
  // MS_MOVE + chroot instead of pivot_root, for a rootfs on ramfs (runc's --no-pivot; taken
  // automatically when pivot_root says EINVAL).
  bool no_pivot = false;
};

// A CRIU checkpoint of a running container (oci/checkpoint.cc; runc's `checkpoint` flags).
struct CheckpointOptions {
  std::string image_path;  // where the CRIU images go (made when missing)
  std::string work_path;   // criu's logs; default: image_path
  bool leave_running = false;
};

// A container restored from CRIU images (oci/restore.cc; runc's `restore` flags). The caller's
// fds 0, 1 and 2 become the restored process's stdio where it had pipes.
struct RestoreOptions {
  std::string bundle;  // config.json + the rootfs the images were dumped from (its diff applied)
  std::string image_path;
  std::string work_path;  // default: image_path
};

class Runtime {
 public:
  Runtime(Syscalls& sys, std::string root_dir, CgroupInfo cgroups)
      : sys_(sys), store_(std::move(root_dir)), cgroups_(std::move(cgroups)) {}

  // kAlreadyExists for a used id, kInvalidArgument for a bad config (naming the field),
  // kNotFound for a missing bundle or rootfs, or the child's error ("mount proc on
  // /b/rootfs/proc: EPERM"). On failure nothing is left: no process, cgroup or state dir.
  // The init is a child of the calling process: Wait() may reap it.
  Result<ContainerState> Create(const std::string& id, const CreateOptions& options);
  // kFailedPrecondition unless the container is `created`.
  Result<void> Start(const std::string& id);
  // The state with its status looked up now (a zombie init counts as stopped). Never reaps:
  // the caller that created the container keeps the exit status. kNotFound for an unknown id.
  Result<ContainerState> State(const std::string& id);
  // kFailedPrecondition when the container is stopped. `all` signals every process of its cgroup.
  Result<void> Kill(const std::string& id, int signal, bool all);
  // Removes a stopped or created container; a running one only with `force` (SIGKILL first).
  // Kills what is left in its cgroup, reaps the init when it is our child, removes the cgroup
  // and the state dir, then runs poststop hooks.
  Result<void> Delete(const std::string& id, bool force);
  Result<std::vector<ContainerState>> List();
  // Freezes a running container's processes (runc's pause) / thaws a paused one.
  // kFailedPrecondition in any other state.
  Result<void> Pause(const std::string& id);
  Result<void> Resume(const std::string& id);
  // New cgroup limits for a created or running container (devices excepted).
  // kFailedPrecondition when it is stopped.
  Result<void> Update(const std::string& id, const Resources& resources);
  // Removes what a crashed Create left behind: every container still `creating` whose init is
  // gone loses its processes, cgroup and state dir. Returns the ids it removed. Call at start-up.
  Result<std::vector<std::string>> Reconcile();
  // Resource usage from the container's cgroup. kNotFound for an unknown id.
  Result<CgroupStats> Stats(const std::string& id);
  // Pids of every process in the container's cgroup. kNotFound for an unknown id.
  Result<std::vector<pid_t>> Processes(const std::string& id);
  // Runs `process` in the running container: all its namespaces, its cgroup, the container's
  // seccomp filter, and the process's own user and capabilities. Returns its pid, a child of
  // this process. kFailedPrecondition unless the container is running.
  Result<pid_t> Exec(const std::string& id, const Process& process, const ExecOptions& options);
  // Dumps the running (or paused) container with criu into options.image_path (plus
  // descriptors.json). Unless leave_running, its processes are gone afterwards (it is then
  // stopped); a paused one left running stays paused, so a caller that paused it can copy its
  // files as the images saw them before it resumes it. Errors:
  // kFailedPrecondition when it is neither running nor paused, or criu is missing or `criu check` fails (then
  // nothing is written); kInternal with criu's error lines when the dump fails.
  Result<void> Checkpoint(const std::string& id, const CheckpointOptions& options);
  // Creates container `id` from the images: its cgroup first, then `criu restore` inside it.
  // Comes back `running`, its init a child of this process. kAlreadyExists for a used id; the
  // criu errors of Checkpoint; on failure nothing is left (no process, cgroup or state dir).
  Result<ContainerState> Restore(const std::string& id, const RestoreOptions& options);
  // Waits for a child of this process (an init from Create) and returns its exit code,
  // 128+signal when a signal ended it.
  Result<int> Wait(pid_t pid);

  const std::string& root_dir() const { return store_.root_dir(); }

 private:
  Result<void> Refresh(ContainerState& state);
  // The state a new container `id` of `bundle` starts with (create and restore): its cgroup
  // path resolved for this node's cgroup driver; not saved yet.
  Result<ContainerState> NewState(const std::string& id, const std::string& bundle,
                                  const Spec& spec) const;
  Result<void> KillAndReap(const ContainerState& state);

  Syscalls& sys_;
  StateStore store_;
  CgroupInfo cgroups_;
};

}  // namespace cricket::oci
