#include "cri/apparmor_default_profile.h"

namespace cricket::cri {

// What a container may do is already narrowed by its namespaces, capabilities, seccomp and
// read-only /proc and /sys mounts; this profile is the second wall behind those, in the shape
// Docker's docker-default gave containers for years (so images that run under Docker run here):
// ordinary file, network and capability use is allowed; mounting, writing the kernel's knobs in
// /proc and /sys, and reading its memory and secrets are not, whatever the capabilities say.
// attach_disconnected: paths outside the container's mount namespace (a passed-in fd, a lazily
// unmounted dir) are named from "/" instead of failing every access.
std::string_view DefaultAppArmorProfileText() {
  return R"(# cricket-default: written by Cricket for RuntimeDefault containers.
@{PROC}=/proc/

profile cricket-default flags=(attach_disconnected,mediate_deleted) {
  network,
  capability,
  file,
  umount,

  # Signals and ptrace stay among the processes of this profile; the node's unconfined
  # processes (cricketd, the shim, kubelet) may still signal them.
  signal (receive) peer=unconfined,
  signal (send,receive) peer=cricket-default,
  ptrace (trace,read,tracedby,readby) peer=cricket-default,

  # No new mounts: CAP_SYS_ADMIN in a container must not remount /proc or /sys writable.
  deny mount,

  # /proc: the files directly in it (sysrq-trigger, kmsg, ...) and every subdirectory other than
  # a process's own (/proc/<pid>, /proc/self, /proc/thread-self) and /proc/sys are read-only.
  deny @{PROC}/* w,
  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
  # /proc/sys: read-only but for kernel/shm* (the IPC namespace's own limits).
  deny @{PROC}/sys/[^k]** w,
  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
  # The kernel's memory and its triggers, not even readable.
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,
  deny @{PROC}/kmem rwklx,
  deny @{PROC}/mem rwklx,

  # /sys: read-only except the cgroup tree (/sys/fs/cgroup, the container's own by namespace);
  # firmware tables and the LSMs' own files not even readable.
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/kernel/security/** rwklx,
}
)";
}

}  // namespace cricket::cri
