#pragma once

// The syscall seam: one method per syscall, named after its man(2) page. LinuxSyscalls only
// calls the kernel, captures errno into an Error naming the action and the object, and returns.
//
// Which code goes through it, and which does not:
// - A `Syscalls&` (taken in the constructor) is for code whose decisions about a kernel call a
//   unit test must see or fail without root: the cgroup managers (oci/cgroup_*, driven by
//   tests/mocks/mock_syscalls.h), oci::Runtime, the shim's runtime backends
//   (shim/container_runtime.h) and storage's Snapshotter and ImageStore.
// - The CRI handlers (cri::CriService) are tested one level up: everything they change goes
//   through CriDeps — shims (cri/shim_access.h), the pod network (network::PodNetworking), the
//   metadata store (a real one on a temp dir in tests), images, volumes — and
//   tests/unit/cri/handlers_test.cc drives them with fakes.
// - Everything else calls the kernel directly, and a root integration test
//   (tests/integration/<module>, ctest label `root`) covers it: the container init between clone
//   and execve (no virtual calls there), namespaces, mounts and netlink in oci/ and network/,
//   layer unpacking, the shim's process handling, and the handlers' own files, ptys and sockets.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  // O_CLOEXEC is always added.
  virtual Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode) = 0;
  virtual Result<UniqueFd> Openat(int dirfd, const std::string& path, int flags, mode_t mode) = 0;
  virtual Result<void> Mkdir(const std::string& path, mode_t mode) = 0;
  virtual Result<void> Chmod(const std::string& path, mode_t mode) = 0;
  virtual Result<void> Unlink(const std::string& path) = 0;
  virtual Result<void> Rmdir(const std::string& path) = 0;
  virtual Result<void> Rename(const std::string& from, const std::string& to) = 0;
  // kFailedPrecondition (EWOULDBLOCK) when LOCK_NB is given and another holder has it.
  virtual Result<void> Flock(int fd, int operation) = 0;
  virtual Result<void> Fsync(int fd) = 0;
  virtual Result<void> Ftruncate(int fd, off_t length) = 0;
  virtual Result<size_t> Write(int fd, std::string_view data) = 0;
  virtual Result<void> Mount(const std::string& source, const std::string& target,
                             const std::string& fstype, unsigned long flags,
                             const std::string& data) = 0;
  virtual Result<void> Umount2(const std::string& target, int flags) = 0;
  virtual Result<void> Kill(pid_t pid, int signal) = 0;
};

class LinuxSyscalls final : public Syscalls {
 public:
  Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode) override;
  Result<UniqueFd> Openat(int dirfd, const std::string& path, int flags, mode_t mode) override;
  Result<void> Mkdir(const std::string& path, mode_t mode) override;
  Result<void> Chmod(const std::string& path, mode_t mode) override;
  Result<void> Unlink(const std::string& path) override;
  Result<void> Rmdir(const std::string& path) override;
  Result<void> Rename(const std::string& from, const std::string& to) override;
  Result<void> Flock(int fd, int operation) override;
  Result<void> Fsync(int fd) override;
  Result<void> Ftruncate(int fd, off_t length) override;
  Result<size_t> Write(int fd, std::string_view data) override;
  Result<void> Mount(const std::string& source, const std::string& target,
                     const std::string& fstype, unsigned long flags,
                     const std::string& data) override;
  Result<void> Umount2(const std::string& target, int flags) override;
  Result<void> Kill(pid_t pid, int signal) override;
};

}  // namespace cricket
