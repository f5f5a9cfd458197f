#include "common/root_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/openat2.h"

namespace cricket {
namespace {

// Bounded retries: openat2 says EAGAIN when a rename raced with a RESOLVE_IN_ROOT walk.
constexpr int kOpenAttempts = 8;
constexpr size_t kReadChunk = 64 * 1024;

const char* KindOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a fifo";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "not a regular file";
  }
}

Error OpenError(int err, const std::string& what) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      // A missing file, or a path through something that is not a directory: either way the
      // root has no such file.
      return Error(Code::kNotFound, "open " + what + ": no such file", err);
    case ELOOP:
      return Error(Code::kFailedPrecondition,
                   "open " + what + ": a symbolic link loop or a /proc magic link is on the way",
                   err);
    case ENOSYS:
      return Error(Code::kUnimplemented,
                   "open " + what + ": the kernel has no openat2 (Linux 5.6 or later is needed)",
                   err);
    default:
      return Error::FromErrno(err, "open " + what);
  }
}

// O_PATH: no open of the object itself happens, whatever it turns out to be.
Result<UniqueFd> OpenPathInRoot(int root_fd, const std::string& path_in_root,
                                const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    int fd =
        Openat2(root_fd, path_in_root.c_str(), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) {
      return UniqueFd(fd);
    }
    if ((errno == EAGAIN || errno == EINTR) && attempt + 1 < kOpenAttempts) {
      continue;
    }
    return OpenError(errno, what);
  }
}

Result<std::string> ReadAtMost(int fd, size_t max_bytes, const std::string& what) {
  std::string out;
  // max_bytes + 1: one byte past the cap tells "exactly max_bytes" from "more".
  const size_t limit = max_bytes + 1;
  while (out.size() < limit) {
    const size_t have = out.size();
    out.resize(have + std::min(kReadChunk, limit - have));
    ssize_t n = ::read(fd, out.data() + have, out.size() - have);
    if (n < 0) {
      out.resize(have);
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "read " + what);
    }
    out.resize(have + static_cast<size_t>(n));
    if (n == 0) {
      return out;
    }
  }
  return Error(Code::kResourceExhausted,
               "read " + what + ": larger than " + std::to_string(max_bytes) + " bytes");
}

Result<std::string> ReadInRoot(int root_fd, const std::string& path_in_root, size_t max_bytes,
                               const std::string& what) {
  CR_ASSIGN_OR_RETURN(UniqueFd path_fd, OpenPathInRoot(root_fd, path_in_root, what));
  struct stat st {};
  if (::fstat(path_fd.get(), &st) < 0) {
    return Error::FromErrno(errno, "stat " + what);
  }
  if (!S_ISREG(st.st_mode)) {
    return Error(Code::kFailedPrecondition,
                 "open " + what + ": " + KindOf(st.st_mode) + ", not a regular file");
  }
  // Reopen the very inode the O_PATH fd holds (the magic link cannot be swapped under us).
  // O_NONBLOCK | O_NOCTTY in case it were anything but the regular file just checked.
  const std::string self = "/proc/self/fd/" + std::to_string(path_fd.get());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "reopen " + what + " through " + self);
  }
  return ReadAtMost(fd.get(), max_bytes, what);
}

}  // namespace

Result<UniqueFd> OpenRootDir(const std::string& root) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open root directory " + root);
  }
  return fd;
}

Result<std::string> ReadFileInRoot(int root_fd, const std::string& path_in_root, size_t max_bytes) {
  return ReadInRoot(root_fd, path_in_root, max_bytes, path_in_root);
}

Result<std::string> ReadFileInRoot(const std::string& root, const std::string& path_in_root,
                                   size_t max_bytes) {
  CR_ASSIGN_OR_RETURN(UniqueFd root_fd, OpenRootDir(root));
  return ReadInRoot(root_fd.get(), path_in_root, max_bytes, path_in_root + " in " + root);
}

}  // namespace cricket
