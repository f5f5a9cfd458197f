#pragma once

// Openat2: the one wrapper of openat2(2) (Linux 5.6), which glibc 2.36 does not wrap. Callers
// resolve paths they do not trust (a container's rootfs, an image layer, /proc) with the
// RESOLVE_* flags, re-exported here from <linux/openat2.h>.
//
// Async-signal-safe: no allocation, no exceptions, no logging, and errno is the kernel's when it
// returns -1. The container's init calls it between clone and execve (oci/child_*.cc). It does
// not retry: EAGAIN (a rename raced with a RESOLVE_IN_ROOT walk) and EINTR are the caller's to
// retry, and ENOSYS (a kernel without openat2) the caller's to report.

#include <linux/openat2.h>

#include <cstdint>

namespace cricket {

// openat2(dirfd, path, {flags | O_CLOEXEC, mode 0, resolve}). Returns the new fd, or -1 with
// errno set.
int Openat2(int dirfd, const char* path, int flags, uint64_t resolve);

}  // namespace cricket
