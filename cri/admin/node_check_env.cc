#include "cri/admin/node_check_env.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

#include "common/files.h"
#include "common/openat2.h"

namespace cricket::cri::admin {

namespace {

// unshare(CLONE_NEWUSER) in a forked child, so this process stays in its namespace. (The child
// is single-threaded, which unshare of a user namespace requires.)
int ProbeUserNamespace() {
  pid_t pid = ::fork();
  if (pid < 0) {
    return errno;
  }
  if (pid == 0) {
    _exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

}  // namespace

Result<std::string> LinuxNodeCheckEnv::ReadFile(const std::string& path) {
  return ::cricket::ReadFile(path);
}

bool LinuxNodeCheckEnv::Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

bool LinuxNodeCheckEnv::IsExecutable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

std::string LinuxNodeCheckEnv::KernelRelease() {
  utsname uts{};
  return ::uname(&uts) == 0 ? uts.release : "";
}

int LinuxNodeCheckEnv::Probe(SyscallProbe probe) {
  switch (probe) {
    case SyscallProbe::kOpenat2: {
      int fd = Openat2(AT_FDCWD, "/", O_PATH, 0);
      if (fd < 0) {
        return errno;
      }
      ::close(fd);
      return 0;
    }
    case SyscallProbe::kCloseRange:
      // The highest possible fd: nothing is open there, so nothing is closed.
      return ::syscall(SYS_close_range, UINT_MAX, UINT_MAX, 0U) == 0 ? 0 : errno;
    case SyscallProbe::kMountSetattr:
      // A bad fd: EBADF when the syscall exists, ENOSYS when not. Nothing changes.
      return ::syscall(SYS_mount_setattr, -1, "", 0U, nullptr, 0UL) == 0 || errno != ENOSYS
                 ? 0
                 : ENOSYS;
    case SyscallProbe::kUserNamespace:
      return ProbeUserNamespace();
    case SyscallProbe::kSeccompFilter: {
      uint32_t action = SECCOMP_RET_ERRNO;
      return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0U, &action) == 0 ? 0 : errno;
    }
  }
  return ENOSYS;
}

Result<SubprocessResult> LinuxNodeCheckEnv::Run(const std::vector<std::string>& argv) {
  SubprocessOptions options;
  options.timeout = std::chrono::seconds(20);
  return RunSubprocess(argv, options);
}

}  // namespace cricket::cri::admin
