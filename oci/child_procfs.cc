// What the container's init writes through /proc (sysctls, the LSM attribute) and the paths it
// masks, after pivot_root (see child_init.h). A path string through /proc is not trusted
// (CVE-2019-16884: an image or a mount that puts a directory over /proc turns the write of the
// AppArmor profile into a write to a plain file, and the container runs unconfined): /proc is
// opened once, checked to be the root of a procfs, and everything below it is opened relative
// to that fd without following symlinks, then checked to be on procfs again.
// Async-signal-safe only: no allocation, no logging.

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/openat2.h"
#include "oci/child_init.h"

namespace cricket::oci::child_internal {
namespace {

// The root directory of every procfs instance (include/linux/proc_ns.h, PROC_ROOT_INO).
constexpr ino_t kProcRootIno = 1;
constexpr uint64_t kNoLinks = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

bool OnProcfs(int fd) {
  struct statfs st {};
  return ::fstatfs(fd, &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
}

// Closes fd and fails with EXDEV when it is not on procfs (a mount planted over the file).
int RequireProcfs(int fd) {
  if (fd >= 0 && !OnProcfs(fd)) {
    ::close(fd);
    errno = EXDEV;
    return -1;
  }
  return fd;
}

// `path` below the verified proc fd, never leaving it and following no symlink.
int OpenInProc(int proc_fd, const char* path, int flags) {
  return RequireProcfs(Openat2(proc_fd, path, flags, RESOLVE_BENEATH | kNoLinks));
}

bool UnderProc(const char* path) { return std::strncmp(path, "/proc/", 6) == 0; }

// The real /dev/null (char 1:3) of the container, to bind over masked files: the image or a
// mount may have put anything else at that path.
int OpenDevNull() {
  int fd = Openat2(AT_FDCWD, "/dev/null", O_PATH, kNoLinks);
  struct stat st {};
  if (fd >= 0 && (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))) {
    ::close(fd);
    errno = ENODEV;
    return -1;
  }
  return fd;
}

// A detached read-only empty tmpfs, for a masked directory.
int EmptyTmpfs() {
  int fs = static_cast<int>(::syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  if (fs < 0) {
    return -1;
  }
  int mnt = -1;
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "0k", 0) == 0 &&
      ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
    mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
  }
  int saved_errno = errno;
  ::close(fs);
  errno = saved_errno;
  return mnt;
}

// Puts a detached mount (tmpfs, or a clone of /dev/null) on the masked path's fd: fds only, so
// nothing is looked up again through a /proc/self/fd path.
bool Cover(int target, bool is_dir, int& dev_null) {
  int mnt = -1;
  if (is_dir) {
    mnt = EmptyTmpfs();
  } else {
    if (dev_null < 0) {
      dev_null = OpenDevNull();
    }
    mnt = dev_null < 0
              ? -1
              : static_cast<int>(::syscall(SYS_open_tree, dev_null, "",
                                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  }
  if (mnt < 0) {
    return false;
  }
  long rc = ::syscall(SYS_move_mount, mnt, "", target, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved_errno = errno;
  ::close(mnt);
  errno = saved_errno;
  return rc == 0;
}

// runc's rule: a path that does not exist needs no mask; any other failure is an error. A
// symlink is one (ELOOP), not followed to wherever it points, and a path under /proc must be
// on procfs (not a file of the image, nor a mount planted over it).
bool MaskPath(const char* path, int& dev_null, size_t index, ChildReport& report) {
  int fd = Openat2(AT_FDCWD, path, O_PATH, kNoLinks);
  if (fd < 0) {
    return errno == ENOENT ? true : Fail(report, ChildStep::kMaskPath, index);
  }
  if (UnderProc(path)) {
    fd = RequireProcfs(fd);
  }
  struct stat st {};
  bool ok = fd >= 0 && ::fstat(fd, &st) == 0 && Cover(fd, S_ISDIR(st.st_mode), dev_null);
  int saved_errno = errno;
  if (fd >= 0) {
    ::close(fd);
  }
  errno = saved_errno;
  return ok ? true : Fail(report, ChildStep::kMaskPath, index);
}

}  // namespace

int OpenProcRoot() {
  int fd = Openat2(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY, kNoLinks);
  struct stat st {};
  if (fd >= 0 && (!OnProcfs(fd) || ::fstat(fd, &st) < 0 || st.st_ino != kProcRootIno)) {
    ::close(fd);
    errno = EXDEV;
    return -1;
  }
  return fd;
}

bool WriteSysctls(const ChildPlan& plan, int proc_fd, ChildReport& report) {
  for (size_t i = 0; i < plan.sysctls.size(); ++i) {
    const SysctlStep& s = plan.sysctls[i];
    int fd = OpenInProc(proc_fd, s.path.c_str(), O_WRONLY);
    if (fd < 0) {
      return Fail(report, ChildStep::kSysctl, i);
    }
    ssize_t n = ::write(fd, s.value.data(), s.value.size());
    int saved_errno = errno;
    ::close(fd);
    errno = saved_errno;
    if (n < 0) {
      return Fail(report, ChildStep::kSysctl, i);
    }
  }
  return true;
}

bool MaskPaths(const ChildPlan& plan, ChildReport& report) {
  int dev_null = -1;
  bool ok = true;
  for (size_t i = 0; ok && i < plan.masked_paths.size(); ++i) {
    ok = MaskPath(plan.masked_paths[i].c_str(), dev_null, i, report);
  }
  if (dev_null >= 0) {
    ::close(dev_null);
  }
  return ok;
}

// Through the container's procfs: thread-self names this thread in that procfs's own pid
// namespace (a symlink, read rather than followed), then <it>/attr/... below the same fd.
bool WriteLsmAttr(const ChildPlan& plan, ChildReport& report) {
  int proc_fd = OpenProcRoot();
  if (proc_fd < 0) {
    return Fail(report, ChildStep::kLsm, 0);
  }
  char path[256];
  ssize_t len = ::readlinkat(proc_fd, "thread-self", path, sizeof(path) - 1);
  size_t attr_len = plan.lsm_attr_path.size();
  int fd = -1;
  if (len > 0 && static_cast<size_t>(len) + 1 + attr_len < sizeof(path)) {
    path[len] = '/';
    std::memcpy(path + len + 1, plan.lsm_attr_path.c_str(), attr_len + 1);
    fd = OpenInProc(proc_fd, path, O_WRONLY);
  } else if (len > 0) {
    errno = ENAMETOOLONG;
  }
  int saved_errno = errno;
  ::close(proc_fd);
  errno = saved_errno;
  if (fd < 0) {
    return Fail(report, ChildStep::kLsm, 1);
  }
  ssize_t n = ::write(fd, plan.lsm_attr_value.data(), plan.lsm_attr_value.size());
  saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  return n >= 0 ? true : Fail(report, ChildStep::kLsm, 2);
}

}  // namespace cricket::oci::child_internal
