// The RuntimeDefault seccomp profile as data: what Docker's and containerd's default profile
// allows, arranged as rule groups (see seccomp_profile.h for how conditions resolve).

#include "oci/seccomp_profile.h"

namespace cricket::oci {
namespace {

// Allowed for everyone.
constexpr const char* kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
    "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
    "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
    "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
};

// Rules that need a capability ("CAP_..."), or "" when the row is conditional otherwise.
struct CapRow {
  const char* cap;
  std::vector<std::string> names;
};

const std::vector<CapRow>& CapRows() {
  static const std::vector<CapRow> kRows = {
      {"CAP_SYS_ADMIN",
       {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
        "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
        "umount2", "unshare"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                          "process_vm_writev", "ptrace"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
  };
  return kRows;
}

// clone without any of the CLONE_NEW* namespace flags (0x7E020000).
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;
constexpr uint32_t kEnosys = 38;
constexpr uint32_t kAfVsock = 40;

SeccompProfile Build() {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = 1;  // EPERM
  p.architectures = NativeArchitectures();
  ProfileRule allowed;
  allowed.names.assign(std::begin(kAllowed), std::end(kAllowed));
  allowed.action = "SCMP_ACT_ALLOW";
  p.rules.push_back(allowed);

  ProfileRule socket{{"socket"}, "SCMP_ACT_ALLOW", {}, {{0, kAfVsock, 0, "SCMP_CMP_NE"}}, {}, {}};
  p.rules.push_back(socket);
  // Only the personalities that do not weaken the address space layout.
  ProfileRule personality{{"personality"}, "SCMP_ACT_ALLOW", {}, {}, {}, {}};
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    personality.args.push_back(SeccompArg{0, persona, 0, "SCMP_CMP_EQ"});
  }
  p.rules.push_back(personality);
  ProfileRule x86{{"arch_prctl", "modify_ldt"}, "SCMP_ACT_ALLOW", {}, {}, {}, {}};
  x86.includes.arches = {"amd64", "x32", "386"};
  p.rules.push_back(x86);
  ProfileRule arm{{"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                   "cacheflush", "set_tls"}, "SCMP_ACT_ALLOW", {}, {}, {}, {}};
  arm.includes.arches = {"arm", "arm64"};
  p.rules.push_back(arm);
  ProfileRule clone{{"clone"}, "SCMP_ACT_ALLOW", {},
                    {{0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ"}}, {}, {}};
  clone.excludes.caps = {"CAP_SYS_ADMIN"};
  p.rules.push_back(clone);
  // glibc falls back to clone when clone3 says ENOSYS; clone3's flags cannot be inspected.
  ProfileRule clone3{{"clone3"}, "SCMP_ACT_ERRNO", kEnosys, {}, {}, {}};
  clone3.excludes.caps = {"CAP_SYS_ADMIN"};
  p.rules.push_back(clone3);
  for (const auto& row : CapRows()) {
    ProfileRule rule{row.names, "SCMP_ACT_ALLOW", {}, {}, {}, {}};
    rule.includes.caps = {row.cap};
    p.rules.push_back(rule);
  }
  return p;
}

}  // namespace

const SeccompProfile& RuntimeDefaultProfile() {
  static const SeccompProfile kProfile = Build();
  return kProfile;
}

}  // namespace cricket::oci
