#pragma once

// ChildPlan: everything the container's init does between clone and execve, worked out in
// advance by the parent (BuildChildPlan) so that the child only reads it. After clone the child
// may not allocate, log or take locks (it may be the copy of a multi-threaded process); it runs
// RunChild (oci/child_init.h), which reports failures as a ChildReport {step, errno, index}
// through a CLOEXEC pipe, and the parent turns that into an Error (RenderChildError).

#include <linux/filter.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "oci/capabilities.h"
#include "oci/cgroup_detect.h"
#include "oci/spec.h"

namespace cricket::oci {

enum class ChildStep : int32_t {
  kReady = 0,  // not an error: the init is waiting for `start`
  kSync,
  kStdio,
  kCgroupJoin,
  kSetns,
  kSetsid,
  kBecomeRoot,
  kHostname,
  kDomainname,
  kRootPropagation,
  kRootBind,
  kMountTarget,
  kMount,
  kMountPropagation,
  kMountRecursiveReadonly,
  kDevice,
  kPivotRoot,
  kDevSymlink,
  kMaskPath,
  kReadonlyPath,
  kReadonlyRoot,
  kSysctl,
  kConsole,
  kRlimit,
  kSeccomp,
  kBoundingDrop,
  kSetgroups,
  kSetgid,
  kSetuid,
  kCapset,
  kAmbient,
  kNoNewPrivs,
  kChdir,
  kLookup,
  kWaitStart,
  kExec,
  kLsm,
  kRuntimeHooks,  // not an error: the init waits before pivot_root while the runtime's hooks run
  kHook,          // a createContainer or startContainer hook failed (see ChildReport::status)
  kCwd,           // after chdir: the working directory is outside the container's root
  kProcfs,        // the container's /proc is not the root of a procfs (sysctls need it)
};

struct ChildReport {
  ChildStep step = ChildStep::kReady;
  int32_t err = 0;
  int32_t index = 0;  // which entry of the plan's list the step was working on
  int32_t status = 0;  // kHook with err 0: the hook's wait status
};

// A createContainer or startContainer hook, run by the init inside the container's namespaces
// (runtime-spec config.md "POSIX-platform Hooks"): createContainer after the mounts, before
// pivot_root (its path resolves in the runtime's mount tree), startContainer after `start`,
// just before the process execs (its path resolves in the container).
struct HookStep {
  std::string field;  // "hooks.createContainer[0]", for errors
  bool start_container = false;
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // pointers into args / env, NULL-terminated (PrepareExecPointers)
  std::vector<char*> envp;
  int timeout_ms = -1;  // -1: none
  int stdin_fd = -1;    // read end of a pipe holding the state JSON; owned by owned_fds
  int state_write_fd = -1;  // its write end: the parent fills and closes it, the init closes its copy
};

struct NsJoin {
  std::string type;
  std::string path;
  int fd = -1;  // opened by the parent; owned by ChildPlan::owned_fds
  int clone_flag = 0;
  // Entered by the parent around the clone (a net/ipc/uts namespace that a child made in a new
  // user namespace could no longer join: the node's user namespace owns it).
  bool by_parent = false;
};

struct MountStep {
  enum class Kind { kMount, kRemount };
  Kind kind = Kind::kMount;
  std::string source;
  std::string destination;  // inside the container
  std::string type;
  unsigned long flags = 0;
  std::string data;
  std::vector<unsigned long> propagation;
  bool recursive_readonly = false;
  bool target_is_dir = true;  // a bind of a file needs a file to mount on
  // An idmapped bind: the runtime makes a detached idmapped copy of `source` before clone
  // (PrepareIdmappedMounts) and the init moves it into place instead of mounting.
  bool idmap = false;
  bool idmap_recursive = false;
  std::vector<IdMapping> uid_mappings{};
  std::vector<IdMapping> gid_mappings{};
  int tree_fd = -1;  // owned by ChildPlan::owned_fds
  // The init refuses a mount whose target turns out to be on procfs (a symlink in the image
  // leading into /proc, CVE-2019-16884) unless the spec's destination is procfs's own place:
  // /proc itself for a proc mount, or one of the lxcfs files (ClassifyProcMount).
  bool over_proc_allowed = false;
};

struct DeviceStep {
  std::string path;  // inside the container
  mode_t mode = 0;   // S_IFCHR | 0666 ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct SysctlStep {
  std::string path;  // "sys/net/ipv4/ip_forward": relative to the container's verified /proc
  std::string value;
};

struct CapFree {
  void operator()(cap_t caps) const { cap_free(caps); }
};

struct ChildPlan {
  int sync_fd = -1;     // read end: the parent writes one byte once uid maps and cgroup are set
  int report_fd = -1;   // write end, CLOEXEC
  int start_fd = -1;    // the exec fifo, opened O_RDONLY|O_NONBLOCK
  int console_fd = -1;  // --console-socket, connected; -1 without a terminal

  int clone_flags = 0;
  std::vector<NsJoin> joins;  // user last: entered after the rootfs is built
  bool new_user_ns = false;
  bool setup_rootfs = false;  // own mount namespace: build the rootfs and pivot into it
  bool exec = false;          // an extra process in a running container (ChildPlanInputs)
  // execve as soon as the environment is ready, without waiting for `start` (exec, and `run`
  // without hooks); the parent learns of success from the report pipe closing.
  bool start_now = false;
  // Block until the parent has prepared things only it can do (uid maps, moving the child into
  // its cgroup, oomScoreAdj). When it has none, the child goes on at once: one handoff less.
  bool wait_for_parent = true;
  // Written "0" by the child to move itself into its cgroup (CgroupManager::SelfJoinFiles).
  std::vector<std::string> cgroup_join_files;
  // A new cgroup namespace is made by unshare after the cgroup join, not by clone, so that its
  // root is the container's cgroup.
  bool unshare_cgroupns = false;
  // A v2 cgroup directory to start the child in (clone3 CLONE_INTO_CGROUP), or -1.
  int clone_cgroup_fd = -1;
  bool cgroup_joined_by_clone = false;  // set by LaunchChild


  std::string hostname;
  bool set_hostname = false;
  std::string domainname;
  bool set_domainname = false;

  std::string rootfs;
  unsigned long root_propagation = 0;
  bool rootfs_readonly = false;
  // A child made in a new user namespace walks paths as an unprivileged host id once it is root
  // there, and may not reach the bundle: it opens the rootfs's parent directory first, while it
  // still has the node's uid 0 (a fd opened by the runtime would name the runtime's mounts),
  // and binds the rootfs by its last component from there.
  std::string rootfs_parent;  // empty: use rootfs
  std::string rootfs_name;
  mutable int rootfs_parent_fd = -1;  // the child's own; closed on execve
  bool no_pivot = false;  // MS_MOVE + chroot instead of pivot_root (runc's --no-pivot)
  std::vector<MountStep> mounts;
  std::vector<DeviceStep> devices;
  bool bind_devices = false;  // in a user namespace mknod fails: bind the host's nodes instead
  bool dev_symlinks = false;  // /dev is ours (a tmpfs): add fd, stdin, stdout, stderr, ptmx
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<SysctlStep> sysctls;

  int stdio_fds[3] = {-1, -1, -1};  // dup2'd onto 0, 1, 2 when >= 0
  int preserve_fds = 0;
  // What the init holds (PlanFds; oci/README.md "Fds the init holds"). A clone has every fd of
  // its parent until execve, CLOEXEC or not, and chdir("/proc/self/fd/N") would follow one out of
  // the container's root (CVE-2024-21626): so the init really closes, twice, every fd from
  // 3 + preserve_fds up except a sorted keep-list.
  std::vector<int> init_fds;  // kept right after stdio: the fds the init itself still uses
  std::vector<int> exec_fds;  // kept right before chdir: only pipes and the exec fifo
  int fd_limit = 0;           // upper bound of the close loop on kernels without close_range(2)

  bool terminal = false;
  uint16_t console_rows = 0;
  uint16_t console_cols = 0;

  std::vector<std::pair<int, rlimit>> rlimits;

  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;

  bool set_caps = false;
  CapabilityMasks caps;
  std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree> cap_state;
  int last_cap = 0;
  bool no_new_privileges = false;

  // Written just before execve: "exec <profile>" for AppArmor, the label for SELinux. The path
  // is relative to the container's /proc/thread-self ("attr/exec"), opened through procfs only.
  std::string lsm_attr_path;
  std::string lsm_attr_value;

  bool seccomp = false;
  std::vector<sock_filter> seccomp_program;
  unsigned int seccomp_flags = 0;

  std::string cwd;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // pointers into args / env, NULL-terminated
  std::vector<char*> envp;
  std::vector<std::string> search_path;  // PATH of process.env, for a bare args[0]

  // createContainer then startContainer hooks, in spec order.
  std::vector<HookStep> hooks;
  // Stop before pivot_root, report kRuntimeHooks and wait for a byte on sync_fd while the
  // runtime runs prestart and createRuntime (runtime-spec: before pivot_root, and before
  // createContainer).
  bool pause_for_runtime_hooks = false;

  std::vector<int> owned_fds;  // closed by the parent after clone (namespace fds)
};

struct ChildPlanInputs {
  const Spec& spec;
  const CgroupInfo* cgroups = nullptr;  // for expanding a "cgroup" mount on v1
  // exec: run spec.process inside the running container whose init is this pid, joining all
  // its namespaces instead of making any; no rootfs work and no waiting for `start`.
  pid_t exec_init_pid = 0;
};

// Works out the plan from a validated spec. kInvalidArgument for what validation could not see
// (unknown capability, bad seccomp rule); kNotFound when a namespace path does not exist.
Result<ChildPlan> BuildChildPlan(const ChildPlanInputs& in);

// Turns a failure report into an Error: "mount proc on /b/rootfs/proc: EPERM (...)".
Error RenderChildError(const ChildPlan& plan, const ChildReport& report);

// Fills init_fds, exec_fds and fd_limit from the fds set in the plan. Call once every fd of the
// plan is known, just before clone (LaunchChild does).
void PlanFds(ChildPlan& plan);

// Closes the namespace fds the plan opened.
void CloseOwnedFds(ChildPlan& plan);

}  // namespace cricket::oci
