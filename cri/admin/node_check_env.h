#pragma once

// NodeCheckEnv: what `cricketctl check` asks of the node — files under /proc, /sys and /lib,
// the kernel release, whether a syscall exists, and the output of a program (iptables
// --version, criu check). LinuxNodeCheckEnv asks the real kernel; unit tests give a fake
// kernel that lacks a feature. (common/syscalls.h has no uname, unshare or probe of a syscall's
// existence, and these probes are read-only diagnostics, so they get this small seam of their
// own rather than growing the runtime's.)

#include <string>
#include <vector>

#include "common/result.h"
#include "common/subprocess.h"

namespace cricket::cri::admin {

// Syscalls whose absence costs a feature.
enum class SyscallProbe {
  kOpenat2,        // Linux 5.6: every container path is resolved inside its root with it
  kCloseRange,     // Linux 5.9: the container init closes inherited fds in one call
  kMountSetattr,   // Linux 5.12: idmapped mounts (user-namespace pods)
  kUserNamespace,  // unshare(CLONE_NEWUSER) in a child
  kSeccompFilter,  // seccomp(SECCOMP_GET_ACTION_AVAIL): filters with SECCOMP_RET_ERRNO
};

class NodeCheckEnv {
 public:
  virtual ~NodeCheckEnv() = default;
  // The file's contents; kNotFound when it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsExecutable(const std::string& path) = 0;
  // uname -r.
  virtual std::string KernelRelease() = 0;
  // 0 when the kernel has the syscall (and it worked), else the errno it failed with.
  virtual int Probe(SyscallProbe probe) = 0;
  // Runs argv to completion (a timeout of a few seconds). kNotFound when it cannot be run.
  virtual Result<SubprocessResult> Run(const std::vector<std::string>& argv) = 0;
};

class LinuxNodeCheckEnv : public NodeCheckEnv {
 public:
  Result<std::string> ReadFile(const std::string& path) override;
  bool Exists(const std::string& path) override;
  bool IsExecutable(const std::string& path) override;
  std::string KernelRelease() override;
  int Probe(SyscallProbe probe) override;
  Result<SubprocessResult> Run(const std::vector<std::string>& argv) override;
};

}  // namespace cricket::cri::admin
