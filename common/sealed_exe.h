#pragma once

// A handle on one of Cricket's own executables that code running in a container can never write
// through (the CVE-2019-5736 class). The code that runs in a container's namespaces before its
// execve (the init and exec children of cricket-runtime and of cricket-shim) is a clone of the
// runtime; a container process that reaches it through /proc/<pid>/exe, even with an O_PATH fd
// kept until the runtime has exited, must find a file that cannot be written, not the host's
// binary. Executables started through a SealedExe (execveat of its fd) have exactly that as
// their /proc/self/exe.

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

enum class SealMethod {
  // An O_PATH fd to the file through a private, detached, read-only overlayfs mount (what runc
  // 1.2 does): no copy, the page cache is the host file's, and an open for writing fails with
  // EROFS. The mount has no path in any mount namespace, so nobody can make it writable.
  kOverlay,
  // A copy in a memfd sealed against writes, growth and shrinking (F_SEAL_WRITE, F_SEAL_GROW,
  // F_SEAL_SHRINK, F_SEAL_SEAL): costs the file's size in shared memory and a copy.
  kMemfd,
};

const char* SealMethodName(SealMethod method);

struct SealedExe {
  UniqueFd fd;  // CLOEXEC; execveat(fd, "", ..., AT_EMPTY_PATH) runs it
  SealMethod method = SealMethod::kMemfd;
};

struct SealOptions {
  // overlayfs without an upper layer needs two lower layers: this existing directory, which
  // must not contain nor lie inside the executable's directory, is the second (it stays
  // hidden: only the executable's name is looked up, and the executable's directory is on
  // top). Empty: no overlay, a memfd copy.
  std::string scratch_dir;
  bool allow_overlay = true;
};

// Seals the executable at `path` (a real path, not /proc/self/exe): kOverlay when the kernel
// can (fsopen, Linux 5.2, and overlayfs) and options allow, otherwise kMemfd. Errors name the
// step and the path (kNotFound for a missing file).
Result<SealedExe> SealExecutable(const std::string& path, const SealOptions& options);

// True when `fd` is open on a file no one can write through: a memfd carrying the write seals,
// or (accept_overlay) a file on a read-only overlayfs mount.
bool IsSealedFd(int fd, bool accept_overlay);

// Replaces the process with the sealed executable (execveat AT_EMPTY_PATH). Returns only on
// failure.
Error ExecSealed(int fd, char* const argv[], char* const envp[]);

}  // namespace cricket
