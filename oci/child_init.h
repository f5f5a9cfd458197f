#pragma once

// The container's init between clone and execve. Only async-signal-safe calls, no allocation,
// no logging, no locks: RunChild reads the ChildPlan the parent prepared and reports the first
// failure as a ChildReport on plan.report_fd before exiting.

#include "oci/child_plan.h"

namespace cricket::oci {

// Fills plan.argv and plan.envp (and each hook's) with pointers into the strings. Call once the plan
// sits where the child will read it (moving the plan would leave them dangling).
void PrepareExecPointers(ChildPlan& plan);

// Never returns: execs the container process or _exits after reporting.
[[noreturn]] void RunChild(const ChildPlan& plan);

namespace child_internal {

// Shared by the child_*.cc files. Each returns false after filling `report`.
bool SetupRootfs(const ChildPlan& plan, ChildReport& report);
bool FinishRootfs(const ChildPlan& plan, ChildReport& report);
bool SetupConsole(const ChildPlan& plan, ChildReport& report);
// Runs the plan's createContainer (start_container false) or startContainer hooks in order.
bool RunContainerHooks(const ChildPlan& plan, bool start_container, ChildReport& report);
// "cricket-runtime: hooks.startContainer[0] /x: failed" on stderr, for a failure after the
// report pipe is gone.
void WriteHookFailure(const ChildPlan& plan, const ChildReport& report);

// Closes every fd from 3 + plan.preserve_fds up except those in `keep` (sorted): close_range(2)
// over the gaps, or a close loop up to plan.fd_limit where close_range is missing.
void CloseFdsExcept(const ChildPlan& plan, const std::vector<int>& keep);
// After chdir: false with errno EXDEV when the working directory is outside the process's root
// (reached through a fd of the runtime, say), or with getcwd's errno.
bool CheckCwdInRoot();

// The container's /proc, opened without following symlinks and checked to be the root of a
// procfs; -1 with errno set (EXDEV: a directory, or another filesystem, sits at /proc).
int OpenProcRoot();
// Writes plan.sysctls below proc_fd (OpenProcRoot), each file checked to be on procfs.
bool WriteSysctls(const ChildPlan& plan, int proc_fd, ChildReport& report);
// Mounts over plan.masked_paths (tmpfs on directories, /dev/null on files), following no symlink.
bool MaskPaths(const ChildPlan& plan, ChildReport& report);
// Writes plan.lsm_attr_value to plan.lsm_attr_path below the container's /proc/thread-self.
bool WriteLsmAttr(const ChildPlan& plan, ChildReport& report);

// Fills `report` with the failed step, errno and the index of the item that failed; false.
bool Fail(ChildReport& report, ChildStep step, size_t index);
// "/proc/self/fd/<fd>" into buf (at least 32 bytes).
const char* FdPath(int fd, char* buf);
// openat2(root, path, flags, RESOLVE_IN_ROOT): `path` is resolved as if root were "/".
int OpenInRoot(int root_fd, const char* path, int flags);

}  // namespace child_internal
}  // namespace cricket::oci
