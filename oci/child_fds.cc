// What fds the container's init holds (see oci/README.md "Fds the init holds"): the parent's
// plan of them (PlanFds) and the init's side (CloseFdsExcept, CheckCwdInRoot), which is
// async-signal-safe like the rest of the init.
//
// A cloned init has every fd of the process that cloned it (the shim's sockets and logs, the
// cgroup directory fd of CLONE_INTO_CGROUP) until execve; O_CLOEXEC only acts then. Any of them
// that is a directory is a way out of the container's root for a path resolved before execve:
// process.cwd = /proc/self/fd/N (CVE-2024-21626). So the init closes them for real, first right
// after stdio (keeping what it still uses) and again right before chdir (keeping only pipes).

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "oci/child_init.h"
#include "oci/child_plan.h"

namespace cricket::oci {
namespace {

// nr_open's default: no fd number can be above it unless an admin raised fs.nr_open.
constexpr rlim_t kMaxFdLimit = rlim_t{1} << 20;

void Keep(std::vector<int>& list, int first, int fd) {
  if (fd >= first) {
    list.push_back(fd);
  }
}

void SortUnique(std::vector<int>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

}  // namespace

void PlanFds(ChildPlan& plan) {
  const int first = 3 + plan.preserve_fds;
  plan.init_fds.clear();
  plan.exec_fds.clear();
  // The stdio originals and clone_cgroup_fd are not here: the init dup2s the former onto 0-2
  // and has no use for the latter (clone3 used it). The hooks' state write ends go too: the
  // parent fills them through its own copies, and a hook must see the end of its stdin.
  for (int fd : {plan.sync_fd, plan.report_fd, plan.start_fd, plan.console_fd}) {
    Keep(plan.init_fds, first, fd);
  }
  for (const NsJoin& j : plan.joins) {
    Keep(plan.init_fds, first, j.fd);
  }
  for (const MountStep& m : plan.mounts) {
    Keep(plan.init_fds, first, m.tree_fd);
  }
  for (const HookStep& h : plan.hooks) {
    Keep(plan.init_fds, first, h.stdin_fd);
  }
  // From chdir on the init only reports, waits for `start` and runs startContainer hooks.
  Keep(plan.exec_fds, first, plan.report_fd);
  if (!plan.start_now) {
    Keep(plan.exec_fds, first, plan.start_fd);
  }
  for (const HookStep& h : plan.hooks) {
    if (h.start_container) {
      Keep(plan.exec_fds, first, h.stdin_fd);
    }
  }
  SortUnique(plan.init_fds);
  SortUnique(plan.exec_fds);
  rlimit limit{};
  rlim_t bound = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : kMaxFdLimit;
  bound = std::min(bound, kMaxFdLimit);
  for (int fd : plan.init_fds) {
    bound = std::max(bound, static_cast<rlim_t>(fd) + 1);
  }
  plan.fd_limit = static_cast<int>(bound);
}

namespace child_internal {
namespace {

void CloseRange(const ChildPlan& plan, unsigned int low, unsigned int high) {
  if (low > high) {
    return;
  }
  if (::syscall(SYS_close_range, low, high, 0U) == 0) {
    return;
  }
  // Linux before 5.9 (ENOSYS), or a seccomp filter that refuses it: one close per number.
  const auto limit = static_cast<unsigned int>(plan.fd_limit);
  for (unsigned int fd = low; fd <= high && fd < limit; ++fd) {
    ::close(static_cast<int>(fd));
  }
}

}  // namespace

void CloseFdsExcept(const ChildPlan& plan, const std::vector<int>& keep) {
  unsigned int low = 3U + static_cast<unsigned int>(plan.preserve_fds);
  for (int fd : keep) {
    CloseRange(plan, low, static_cast<unsigned int>(fd) - 1U);
    low = static_cast<unsigned int>(fd) + 1U;
  }
  CloseRange(plan, low, ~0U);
}

bool CheckCwdInRoot() {
  char cwd[4096];
  // The raw syscall: glibc turns the kernel's answer for a directory outside the caller's root,
  // "(unreachable)/...", into ENOENT. Inside the root the path starts with '/'.
  if (::syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0) {
    return false;
  }
  if (cwd[0] != '/') {
    errno = EXDEV;
    return false;
  }
  return true;
}

}  // namespace child_internal
}  // namespace cricket::oci
