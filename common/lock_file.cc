#include "common/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace cricket {

Result<LockFile> LockFile::Acquire(const std::string& path) {
  // A fresh open file description per call, so two LockFiles in one process also exclude.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open lock file " + path);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) {
      return Error::FromErrno(errno, "lock " + path);
    }
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof(buf) - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
      holder.pop_back();
    }
    return Error(Code::kFailedPrecondition,
                 path + " is locked by another process (pid " + holder + ")");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return Error::FromErrno(errno, "write pid to " + path);
  }
  return LockFile(path, std::move(fd));
}

}  // namespace cricket
