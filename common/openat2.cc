#include "common/openat2.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cricket {

int Openat2(int dirfd, const char* path, int flags, uint64_t resolve) {
  open_how how{};
  // Every fd we open is close-on-exec (STYLE.md); the flags are non-negative O_* bits.
  how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags | O_CLOEXEC));
  how.resolve = resolve;
  // Nothing runs after the syscall, so errno is left as the kernel set it.
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

}  // namespace cricket
