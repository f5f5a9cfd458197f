// The container's init from clone to execve (see child_init.h). Async-signal-safe only: raw
// syscalls where glibc wrappers would talk to other threads (setresuid & co. broadcast to every
// thread of the parent's copy), no allocation, no logging.

#include "oci/child_init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace cricket::oci {
namespace {

using child_internal::SetupConsole;

[[noreturn]] void Report(const ChildPlan& plan, const ChildReport& report) {
  ssize_t n = ::write(plan.report_fd, &report, sizeof(report));
  (void)n;
  ::_exit(1);
}

[[noreturn]] void Die(const ChildPlan& plan, ChildStep step, size_t index) {
  ChildReport report{step, errno, static_cast<int32_t>(index)};
  Report(plan, report);
}

void Check(const ChildPlan& plan, bool ok, ChildStep step, size_t index = 0) {
  if (!ok) {
    Die(plan, step, index);
  }
}

// The plan's fds may sit on 0-2 themselves; dup2 leaves a same-number fd alone but keeps its
// CLOEXEC, so that case clears the flag instead. Then every inherited fd above the preserved ones
// that the init does not use is closed, before anything else runs (see child_fds.cc).
void SetupStdio(const ChildPlan& plan) {
  for (int target = 0; target < 3; ++target) {
    int fd = plan.stdio_fds[target];
    if (fd < 0) {
      continue;
    }
    bool ok = fd == target ? ::fcntl(fd, F_SETFD, 0) == 0 : ::dup2(fd, target) == target;
    Check(plan, ok, ChildStep::kStdio, static_cast<size_t>(target));
  }
  child_internal::CloseFdsExcept(plan, plan.init_fds);
}

void EnterNamespaces(const ChildPlan& plan) {
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    // A pid namespace is joined by the parent before clone: setns(2) only moves children. A
    // user namespace is joined last (JoinUserNamespace).
    if (plan.joins[i].clone_flag == CLONE_NEWPID || plan.joins[i].clone_flag == CLONE_NEWUSER ||
        plan.joins[i].by_parent) {
      continue;
    }
    Check(plan, ::setns(plan.joins[i].fd, plan.joins[i].clone_flag) == 0, ChildStep::kSetns, i);
  }
  if (plan.new_user_ns) {
    if (!plan.rootfs_parent.empty()) {
      plan.rootfs_parent_fd =
          ::open(plan.rootfs_parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
      Check(plan, plan.rootfs_parent_fd >= 0, ChildStep::kRootBind, 3);
    }
    Check(plan, ::syscall(SYS_setresgid, 0, 0, 0) == 0, ChildStep::kBecomeRoot, 0);
    Check(plan, ::syscall(SYS_setresuid, 0, 0, 0) == 0, ChildStep::kBecomeRoot, 1);
  }
}

// A joined user namespace (a pod's) is entered once the rootfs is built and pivoted into: up
// to here the init has the node's root, so the mount namespace, its mounts and a new pid
// namespace belong to the node's user namespace (the container's root cannot remount them)
// and the pod's network namespace, which the node owns, could be joined. setns(2) refuses a
// chrooted caller; after pivot_root the root is the namespace's own.
void JoinUserNamespace(const ChildPlan& plan) {
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    if (plan.joins[i].clone_flag == CLONE_NEWUSER) {
      Check(plan, ::setns(plan.joins[i].fd, CLONE_NEWUSER) == 0, ChildStep::kSetns, i);
    }
  }
}

void SetIdentity(const ChildPlan& plan) {
  if (plan.set_caps) {
    for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
      if ((plan.caps.bounding & (uint64_t{1} << cap)) == 0) {
        Check(plan, ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0, ChildStep::kBoundingDrop,
              static_cast<size_t>(cap));
      }
    }
  }
  // Keep the permitted set across the uid change; capset below trims it to the spec's.
  Check(plan, ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0, ChildStep::kSetuid, 0);
  Check(plan, ::syscall(SYS_setgroups, plan.additional_gids.size(), plan.additional_gids.data()) == 0 ||
                  (errno == EPERM && plan.additional_gids.empty()),
        ChildStep::kSetgroups);
  Check(plan, ::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) == 0, ChildStep::kSetgid);
  Check(plan, ::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) == 0, ChildStep::kSetuid, 1);
  if (plan.set_caps) {
    Check(plan, cap_set_proc(plan.cap_state.get()) == 0, ChildStep::kCapset);
    Check(plan, ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0 || errno == EINVAL,
          ChildStep::kAmbient, 0);
    for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
      if ((plan.caps.ambient & (uint64_t{1} << cap)) != 0) {
        Check(plan, ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0,
              ChildStep::kAmbient, static_cast<size_t>(cap));
      }
    }
  }
  Check(plan, ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == 0, ChildStep::kSetuid, 2);
}

void LoadSeccomp(const ChildPlan& plan) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(plan.seccomp_program.size());
  prog.filter = const_cast<sock_filter*>(plan.seccomp_program.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast): the kernel only reads it
  Check(plan, ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.seccomp_flags, &prog) == 0,
        ChildStep::kSeccomp);
}

// Finds args[0] the way execvp would, into buf. Returns false with errno set.
bool LookupExecutable(const ChildPlan& plan, char* buf, size_t size) {
  const std::string& name = plan.args[0];
  if (name.find('/') != std::string::npos) {
    if (name.size() >= size) {
      errno = ENAMETOOLONG;
      return false;
    }
    std::memcpy(buf, name.c_str(), name.size() + 1);
    return ::access(buf, X_OK) == 0;
  }
  int last_errno = ENOENT;
  for (const auto& dir : plan.search_path) {
    if (dir.size() + name.size() + 2 > size) {
      continue;
    }
    std::memcpy(buf, dir.data(), dir.size());
    buf[dir.size()] = '/';
    std::memcpy(buf + dir.size() + 1, name.c_str(), name.size() + 1);
    struct stat st {};
    if (::stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(buf, X_OK) == 0) {
        return true;
      }
      last_errno = errno;
    }
  }
  errno = last_errno;
  return false;
}

void WaitForStart(const ChildPlan& plan) {
  ChildReport ready{ChildStep::kReady, 0, 0};
  Check(plan, ::write(plan.report_fd, &ready, sizeof(ready)) == sizeof(ready), ChildStep::kWaitStart);
  ::close(plan.report_fd);
  // The fifo was opened O_NONBLOCK before any writer existed, so poll sleeps until `start`
  // opens it for writing and writes a byte (a reader opened that way sees no hangup before the
  // first writer).
  pollfd pfd{plan.start_fd, POLLIN, 0};
  for (;;) {
    int rc = ::poll(&pfd, 1, -1);
    if (rc > 0) {
      break;
    }
    if (rc < 0 && errno != EINTR) {
      ::_exit(1);
    }
  }
  char byte = 0;
  if (::read(plan.start_fd, &byte, 1) != 1) {
    ::_exit(1);  // the fifo hung up without a byte: deleted before start
  }
  ::close(plan.start_fd);
}

[[noreturn]] void ExecFailed(const char* path) {
  static constexpr char kMsg[] = "cricket-runtime: exec failed: ";
  ssize_t n = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
  n = ::write(STDERR_FILENO, path, std::strlen(path));
  n = ::write(STDERR_FILENO, ": ", 2);
  const char* reason = strerrordesc_np(errno);
  n = ::write(STDERR_FILENO, reason, std::strlen(reason));
  n = ::write(STDERR_FILENO, "\n", 1);
  (void)n;
  ::_exit(127);
}

}  // namespace

void PrepareExecPointers(ChildPlan& plan) {
  plan.argv.clear();
  for (auto& a : plan.args) {
    plan.argv.push_back(a.data());
  }
  plan.argv.push_back(nullptr);
  plan.envp.clear();
  for (auto& e : plan.env) {
    plan.envp.push_back(e.data());
  }
  plan.envp.push_back(nullptr);
  for (HookStep& h : plan.hooks) {
    h.argv.clear();
    for (auto& a : h.args) {
      h.argv.push_back(a.data());
    }
    h.argv.push_back(nullptr);
    h.envp.clear();
    for (auto& e : h.env) {
      h.envp.push_back(e.data());
    }
    h.envp.push_back(nullptr);
  }
}

void RunChild(const ChildPlan& plan) {
  // Until execve (which resets it) no process of the container may open /proc/<us>/exe,
  // /maps or /mem without CAP_SYS_PTRACE: we are still the runtime (oci/README.md).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // The parent's signal dispositions and mask are not the container's.
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for SIGKILL, SIGSTOP and gaps
  }
  ::umask(0);
  SetupStdio(plan);
  char byte = 0;
  Check(plan, !plan.wait_for_parent || ::read(plan.sync_fd, &byte, 1) == 1, ChildStep::kSync);
  if (!plan.pause_for_runtime_hooks) {
    ::close(plan.sync_fd);
  }
  for (size_t i = 0; i < plan.cgroup_join_files.size(); ++i) {
    int fd = ::open(plan.cgroup_join_files[i].c_str(), O_WRONLY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
    Check(plan, fd >= 0 && ::write(fd, "0", 1) == 1, ChildStep::kCgroupJoin, i);
    ::close(fd);
  }
  EnterNamespaces(plan);
  Check(plan, !plan.unshare_cgroupns || ::unshare(CLONE_NEWCGROUP) == 0, ChildStep::kSetns,
        plan.joins.size());
  Check(plan, ::setsid() >= 0, ChildStep::kSetsid);
  Check(plan, !plan.set_hostname ||
                  ::sethostname(plan.hostname.c_str(), plan.hostname.size()) == 0,
        ChildStep::kHostname);
  Check(plan, !plan.set_domainname ||
                  ::setdomainname(plan.domainname.c_str(), plan.domainname.size()) == 0,
        ChildStep::kDomainname);
  ChildReport report;
  if (plan.setup_rootfs && (!child_internal::SetupRootfs(plan, report) ||
                            !child_internal::FinishRootfs(plan, report))) {
    Report(plan, report);
  }
  if (plan.rootfs_parent_fd >= 0) {
    ::close(plan.rootfs_parent_fd);  // a host directory: gone before the rootfs is used
  }
  if (plan.terminal && !SetupConsole(plan, report)) {
    Report(plan, report);
  }
  for (size_t i = 0; i < plan.rlimits.size(); ++i) {
    Check(plan, ::setrlimit(static_cast<__rlimit_resource>(plan.rlimits[i].first),
                            &plan.rlimits[i].second) == 0,
          ChildStep::kRlimit, i);
  }
  JoinUserNamespace(plan);
  // Without no_new_privs only CAP_SYS_ADMIN may install a filter: do it while we have it.
  if (plan.seccomp && !plan.no_new_privileges) {
    LoadSeccomp(plan);
  }
  SetIdentity(plan);
  Check(plan, !plan.no_new_privileges || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0,
        ChildStep::kNoNewPrivs);
  ::umask(plan.umask.value_or(022));
  // The first path of the container's process: only 0-2, the preserved fds and the init's
  // pipes are left to reach through /proc/self/fd, and the result must be inside the root.
  child_internal::CloseFdsExcept(plan, plan.exec_fds);
  Check(plan, ::chdir(plan.cwd.c_str()) == 0, ChildStep::kChdir);
  Check(plan, child_internal::CheckCwdInRoot(), ChildStep::kCwd);
  char path[4096];
  Check(plan, LookupExecutable(plan, path, sizeof(path)), ChildStep::kLookup);
  if (!plan.lsm_attr_path.empty() && !child_internal::WriteLsmAttr(plan, report)) {
    Report(plan, report);
  }
  if (plan.start_now) {
    // The parent learns of success from the report pipe closing on execve.
    if (plan.seccomp && plan.no_new_privileges) {
      LoadSeccomp(plan);
    }
    ::execve(path, plan.argv.data(), plan.envp.data());
    Die(plan, ChildStep::kExec, 0);
  }
  WaitForStart(plan);
  // runtime-spec: startContainer hooks run in the container after `start`, before the process.
  // The report pipe is gone: a failure goes to the container's stderr and the init exits, which
  // stops the container.
  if (!child_internal::RunContainerHooks(plan, true, report)) {
    child_internal::WriteHookFailure(plan, report);
    ::_exit(1);
  }
  if (plan.seccomp && plan.no_new_privileges) {
    LoadSeccomp(plan);
  }
  ::execve(path, plan.argv.data(), plan.envp.data());
  ExecFailed(path);
}

}  // namespace cricket::oci
