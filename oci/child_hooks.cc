// createContainer and startContainer hooks, run by the container's init inside its namespaces
// (see child_plan.h HookStep). Async-signal-safe only, like the rest of the init: the hook is a
// raw clone of the init that execs at once, its argv/envp and state pipe prepared by the parent.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "oci/child_init.h"

namespace cricket::oci::child_internal {
namespace {

bool Fail(ChildReport& report, size_t index, int err, int status) {
  report.step = ChildStep::kHook;
  report.err = err;
  report.index = static_cast<int32_t>(index);
  report.status = status;
  return false;
}

[[noreturn]] void ExecHook(const HookStep& h) {
  bool ok = h.stdin_fd == STDIN_FILENO ? ::fcntl(h.stdin_fd, F_SETFD, 0) == 0
                                       : ::dup2(h.stdin_fd, STDIN_FILENO) == STDIN_FILENO;
  if (ok) {
    ::execve(h.path.c_str(), h.argv.data(), h.envp.data());
  }
  ::_exit(127);
}

// Waits for the hook, killing it when its timeout passes. Returns its wait status, or -1 with
// errno ETIMEDOUT.
int WaitHook(const HookStep& h, pid_t pid) {
  if (h.timeout_ms >= 0) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pollfd pfd{pidfd, POLLIN, 0};
      int rc = 0;
      do {
        rc = ::poll(&pfd, 1, h.timeout_ms);
      } while (rc < 0 && errno == EINTR);
      ::close(pidfd);
      if (rc == 0) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        errno = ETIMEDOUT;
        return -1;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return status;
}

}  // namespace

bool RunContainerHooks(const ChildPlan& plan, bool start_container, ChildReport& report) {
  for (size_t i = 0; i < plan.hooks.size(); ++i) {
    const HookStep& h = plan.hooks[i];
    if (h.start_container != start_container) {
      continue;
    }
    // A missing or non-executable hook is an errno, not an anonymous exit status 127.
    if (::access(h.path.c_str(), X_OK) < 0) {
      return Fail(report, i, errno, 0);
    }
    long pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
      return Fail(report, i, errno, 0);
    }
    if (pid == 0) {
      ExecHook(h);
    }
    int status = WaitHook(h, static_cast<pid_t>(pid));
    if (status < 0) {
      return Fail(report, i, errno, 0);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail(report, i, 0, status);
    }
  }
  return true;
}

void WriteHookFailure(const ChildPlan& plan, const ChildReport& report) {
  static constexpr char kPrefix[] = "cricket-runtime: ";
  const HookStep& h = plan.hooks[static_cast<size_t>(report.index)];
  const char* reason = report.err == ETIMEDOUT ? ": timed out"
                       : report.err != 0       ? ": could not run"
                                               : ": failed";
  ssize_t n = ::write(STDERR_FILENO, kPrefix, sizeof(kPrefix) - 1);
  n = ::write(STDERR_FILENO, h.field.data(), h.field.size());
  n = ::write(STDERR_FILENO, " ", 1);
  n = ::write(STDERR_FILENO, h.path.data(), h.path.size());
  n = ::write(STDERR_FILENO, reason, std::strlen(reason));
  n = ::write(STDERR_FILENO, "\n", 1);
  (void)n;
}

}  // namespace cricket::oci::child_internal
