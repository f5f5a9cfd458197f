#include "storage/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

namespace cricket::storage {
namespace {

constexpr int kMaxDepth = 256;

struct Walk {
  dev_t dev = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  DiskUsage usage;
};

void Count(Walk& w, const struct stat& st) {
  if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !w.seen.emplace(st.st_dev, st.st_ino).second) {
    return;
  }
  w.usage.used_bytes += static_cast<int64_t>(st.st_blocks) * 512;
  w.usage.inodes_used += 1;
}

void WalkDir(Walk& w, int dir_fd, int depth) {
  if (depth > kMaxDepth) {
    return;
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      continue;  // removed while we walk
    }
    Count(w, st);
    if (S_ISDIR(st.st_mode) && st.st_dev == w.dev) {
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
      int child = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) {
        WalkDir(w, child, depth + 1);
        ::close(child);
      }
    }
  }
  ::closedir(d);
}

}  // namespace

Result<DiskUsage> MeasureDiskUsage(const std::string& path) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error::FromErrno(errno, "open " + path);
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0) {
    int err = errno;
    ::close(fd);
    return Error::FromErrno(err, "stat " + path);
  }
  Walk w;
  w.dev = st.st_dev;
  Count(w, st);
  WalkDir(w, fd, 0);
  ::close(fd);
  return w.usage;
}

Result<FsCapacity> MeasureFsCapacity(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) {
    return Error::FromErrno(errno, "statfs " + path);
  }
  FsCapacity out;
  out.bytes = static_cast<uint64_t>(st.f_blocks) * static_cast<uint64_t>(st.f_bsize);
  out.inodes = st.f_files;
  out.inodes_free = st.f_ffree;
  return out;
}

}  // namespace cricket::storage
