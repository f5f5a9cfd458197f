// The rootfs part of the container's init (see child_init.h): mounts in order, devices,
// pivot_root, read-only paths (sysctls and masked paths: child_procfs.cc). Async-signal-safe only:
// no allocation, no logging.

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/openat2.h"
#include "oci/child_init.h"

namespace cricket::oci::child_internal {
namespace {

constexpr size_t kPathMax = 4096;

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// Walks `path` below root_fd, creating missing directories (and, when !is_dir, the last
// component as an empty file), and returns an O_PATH fd of the result or -1.
int MkdirAllInRoot(int root_fd, const char* path, bool is_dir) {
  char buf[kPathMax];
  size_t len = std::strlen(path);
  if (len >= sizeof(buf)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(buf, path, len + 1);
  int cur = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  size_t i = 0;
  while (cur >= 0 && i < len) {
    while (i < len && buf[i] == '/') {
      ++i;
    }
    if (i >= len) {
      break;
    }
    size_t start = i;
    while (i < len && buf[i] != '/') {
      ++i;
    }
    char saved = buf[i];
    buf[i] = '\0';
    int fd = OpenInRoot(root_fd, buf, O_PATH);
    if (fd < 0 && errno == ENOENT) {
      bool last = (i == len) || buf[i + 1] == '\0';
      if (last && !is_dir) {
        int f = ::openat(cur, buf + start, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);  // NOLINT(cppcoreguidelines-pro-type-vararg)
        if (f >= 0) {
          ::close(f);
        }
      } else {
        ::mkdirat(cur, buf + start, 0755);
      }
      fd = OpenInRoot(root_fd, buf, O_PATH);
    }
    buf[i] = saved;
    int saved_errno = errno;
    ::close(cur);
    errno = saved_errno;
    cur = fd;
  }
  return cur;
}

bool DoMount(const ChildPlan& plan, int root_fd, size_t index, ChildReport& report) {
  const MountStep& m = plan.mounts[index];
  char fd_path[32];
  int target = m.kind == MountStep::Kind::kMount
                   ? MkdirAllInRoot(root_fd, m.destination.c_str(), m.target_is_dir)
                   : OpenInRoot(root_fd, m.destination.c_str(), O_PATH);
  if (target < 0) {
    return Fail(report, ChildStep::kMountTarget, index);
  }
  // A destination that the image's symlinks lead into a mounted procfs (CVE-2019-16884): the
  // spec's path passed ValidateSpec, the place it resolves to may not.
  struct statfs target_fs {};
  if (!m.over_proc_allowed && m.kind == MountStep::Kind::kMount &&
      (::fstatfs(target, &target_fs) < 0 || target_fs.f_type == PROC_SUPER_MAGIC)) {
    int saved = target_fs.f_type == PROC_SUPER_MAGIC ? EXDEV : errno;
    ::close(target);
    errno = saved;
    return Fail(report, ChildStep::kMountTarget, index);
  }
  int rc = 0;
  if (m.tree_fd >= 0) {
    // An idmapped copy the runtime prepared (idmap_mount.h): move it into place.
    rc = static_cast<int>(::syscall(SYS_move_mount, m.tree_fd, "", target, "",
                                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
  } else {
    rc = ::mount(m.kind == MountStep::Kind::kMount ? OrNull(m.source) : nullptr,
                 FdPath(target, fd_path), OrNull(m.type), m.flags, OrNull(m.data));
  }
  int saved_errno = errno;
  ::close(target);
  errno = saved_errno;
  if (rc < 0) {
    return Fail(report, ChildStep::kMount, index);
  }
  if (m.propagation.empty() && !m.recursive_readonly) {
    return true;
  }
  // The fd above names the directory under the new mount: look the path up again.
  target = OpenInRoot(root_fd, m.destination.c_str(), O_PATH);
  if (target < 0) {
    return Fail(report, ChildStep::kMountTarget, index);
  }
  bool ok = true;
  for (unsigned long prop : m.propagation) {
    if (ok && ::mount(nullptr, FdPath(target, fd_path), nullptr, prop, nullptr) < 0) {
      ok = Fail(report, ChildStep::kMountPropagation, index);
    }
  }
  if (ok && m.recursive_readonly) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, target, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                  sizeof(attr)) < 0) {
      ok = Fail(report, ChildStep::kMountRecursiveReadonly, index);
    }
  }
  ::close(target);
  return ok;
}

// Binds the host's node of the same path over an empty file.
bool BindHostDevice(const DeviceStep& d, int dir_fd, const char* base, ChildReport& report,
                    size_t index) {
  int f = ::openat(dir_fd, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  char fd_path[32];
  bool ok = f >= 0 && ::mount(d.path.c_str(), FdPath(f, fd_path), nullptr, MS_BIND, nullptr) == 0;
  if (!ok) {
    Fail(report, ChildStep::kDevice, index);
  }
  if (f >= 0) {
    ::close(f);
  }
  return ok;
}

bool MakeDevice(const ChildPlan& plan, int root_fd, size_t index, ChildReport& report) {
  const DeviceStep& d = plan.devices[index];
  char dir[kPathMax];
  size_t len = d.path.size();
  if (len >= sizeof(dir)) {
    errno = ENAMETOOLONG;
    return Fail(report, ChildStep::kDevice, index);
  }
  std::memcpy(dir, d.path.c_str(), len + 1);
  char* slash = std::strrchr(dir, '/');
  const char* base = slash + 1;
  *slash = '\0';
  int dir_fd = MkdirAllInRoot(root_fd, dir[0] == '\0' ? "/" : dir, true);
  if (dir_fd < 0) {
    return Fail(report, ChildStep::kDevice, index);
  }
  base = d.path.c_str() + (base - dir);
  bool ok = true;
  if (plan.bind_devices) {
    // A user namespace may not mknod.
    ok = BindHostDevice(d, dir_fd, base, report, index);
  } else {
    int rc = ::mknodat(dir_fd, base, d.mode, d.dev);
    if (rc < 0 && errno == EPERM) {
      // The device cgroup may deny mknod of a node the rules leave out: bind the host's
      // instead, which the same rules keep from being opened.
      ok = BindHostDevice(d, dir_fd, base, report, index);
    } else if (rc < 0 && errno != EEXIST) {
      ok = Fail(report, ChildStep::kDevice, index);
    } else if (::fchownat(dir_fd, base, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
               ::fchmodat(dir_fd, base, d.mode & 07777, 0) < 0) {
      ok = Fail(report, ChildStep::kDevice, index);
    }
  }
  ::close(dir_fd);
  return ok;
}

// The old root, stacked on the new one by pivot_root(".", "."), is detached without telling
// the host: it is made rslave first, through an fd opened before the pivot, because "." after
// the pivot names the new root (a propagation change does not follow mounts on the last
// component) and, with rootfsPropagation rshared, an unmount of a shared old root would
// propagate to the host's mounts.
bool DetachOldRoot(int old_root, ChildReport& report) {
  if (::fchdir(old_root) < 0 || ::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0 ||
      ::umount2(".", MNT_DETACH) < 0) {
    return Fail(report, ChildStep::kPivotRoot, 1);
  }
  return true;
}

bool PivotRoot(int root_fd, bool no_pivot, ChildReport& report) {
  int old_root = ::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (old_root < 0) {
    return Fail(report, ChildStep::kPivotRoot, 0);
  }
  int rc = ::fchdir(root_fd);
  if (rc == 0 && no_pivot) {
    rc = -1;
    errno = EINVAL;  // take the ramfs path below, as asked
  } else if (rc == 0) {
    rc = static_cast<int>(::syscall(SYS_pivot_root, ".", "."));
  }
  int saved_errno = errno;
  bool ok = true;
  if (rc == 0) {
    ok = DetachOldRoot(old_root, report);
  } else if (saved_errno == EINVAL) {
    // pivot_root(2) refuses a rootfs on ramfs/initramfs: move the mount and chroot instead.
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 || ::chroot(".") < 0) {
      ok = Fail(report, ChildStep::kPivotRoot, 2);
    }
  } else {
    errno = saved_errno;
    ok = Fail(report, ChildStep::kPivotRoot, 0);
  }
  ::close(old_root);
  if (ok && ::chdir("/") < 0) {
    ok = Fail(report, ChildStep::kPivotRoot, 3);
  }
  return ok;
}

// Walks up from `path` until a mount point takes MS_PRIVATE; EINVAL means "not a mount point".
bool MakeParentMountPrivate(const std::string& path, ChildReport& report) {
  char buf[kPathMax];
  size_t len = path.size();
  if (len == 0 || len >= sizeof(buf)) {
    errno = ENAMETOOLONG;
    return Fail(report, ChildStep::kRootPropagation, 1);
  }
  std::memcpy(buf, path.c_str(), len + 1);
  for (;;) {
    if (::mount(nullptr, buf, nullptr, MS_PRIVATE, nullptr) == 0) {
      return true;
    }
    if (errno != EINVAL || std::strcmp(buf, "/") == 0) {
      return Fail(report, ChildStep::kRootPropagation, 1);
    }
    char* slash = std::strrchr(buf, '/');
    if (slash == nullptr) {
      return Fail(report, ChildStep::kRootPropagation, 1);
    }
    if (slash == buf) {
      buf[1] = '\0';
    } else {
      *slash = '\0';
    }
  }
}

// Tells the runtime to run prestart/createRuntime now and waits for its byte.
bool PauseForRuntimeHooks(const ChildPlan& plan, ChildReport& report) {
  ChildReport pause{ChildStep::kRuntimeHooks, 0, 0, 0};
  if (::write(plan.report_fd, &pause, sizeof(pause)) != sizeof(pause)) {
    return Fail(report, ChildStep::kSync, 1);
  }
  char byte = 0;
  ssize_t n = 0;
  do {
    n = ::read(plan.sync_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  ::close(plan.sync_fd);
  if (n != 1) {
    errno = n == 0 ? EPIPE : errno;
    return Fail(report, ChildStep::kSync, 1);
  }
  return true;
}

unsigned long LockedFlags(const char* path) {
  struct statfs st {};
  if (::statfs(path, &st) < 0) {
    return 0;
  }
  unsigned long flags = 0;
  const unsigned long f = static_cast<unsigned long>(st.f_flags);
  if ((f & ST_NOSUID) != 0) {
    flags |= MS_NOSUID;
  }
  if ((f & ST_NODEV) != 0) {
    flags |= MS_NODEV;
  }
  if ((f & ST_NOEXEC) != 0) {
    flags |= MS_NOEXEC;
  }
  if ((f & ST_NOATIME) != 0) {
    flags |= MS_NOATIME;
  }
  if ((f & ST_NODIRATIME) != 0) {
    flags |= MS_NODIRATIME;
  }
  if ((f & ST_RELATIME) != 0) {
    flags |= MS_RELATIME;
  }
  return flags;
}

bool ReadonlyPath(const char* path, size_t index, ChildReport& report) {
  if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return errno == ENOENT ? true : Fail(report, ChildStep::kReadonlyPath, index);
  }
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | LockedFlags(path);
  if (::mount(path, path, nullptr, flags, nullptr) < 0) {
    return Fail(report, ChildStep::kReadonlyPath, index);
  }
  return true;
}

bool DevSymlinks(ChildReport& report) {
  static constexpr const char* kLinks[][2] = {
      {"/proc/self/fd", "/dev/fd"},
      {"/proc/self/fd/0", "/dev/stdin"},
      {"/proc/self/fd/1", "/dev/stdout"},
      {"/proc/self/fd/2", "/dev/stderr"},
  };
  for (size_t i = 0; i < sizeof(kLinks) / sizeof(kLinks[0]); ++i) {
    if (::symlink(kLinks[i][0], kLinks[i][1]) < 0 && errno != EEXIST) {
      return Fail(report, ChildStep::kDevSymlink, i);
    }
  }
  struct stat st {};
  if (::stat("/dev/pts/ptmx", &st) == 0) {
    ::unlink("/dev/ptmx");
    if (::symlink("pts/ptmx", "/dev/ptmx") < 0) {
      return Fail(report, ChildStep::kDevSymlink, 4);
    }
  }
  return true;
}

}  // namespace

bool Fail(ChildReport& report, ChildStep step, size_t index) {
  report.step = step;
  report.err = errno;
  report.index = static_cast<int32_t>(index);
  return false;
}

const char* FdPath(int fd, char* buf) {
  static constexpr char kPrefix[] = "/proc/self/fd/";
  std::memcpy(buf, kPrefix, sizeof(kPrefix));
  char digits[16];
  int n = 0;
  unsigned value = static_cast<unsigned>(fd);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 15);
  char* out = buf + sizeof(kPrefix) - 1;
  while (n > 0) {
    *out++ = digits[--n];
  }
  *out = '\0';
  return buf;
}

int OpenInRoot(int root_fd, const char* path, int flags) {
  return Openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

bool SetupRootfs(const ChildPlan& plan, ChildReport& report) {
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) < 0) {
    return Fail(report, ChildStep::kRootPropagation, 0);
  }
  // pivot_root(2) refuses a new root whose parent mount is shared, and a bind below a shared
  // mount would show on the host: with a shared "/" the mount holding the rootfs goes private
  // first (runc's rootfsParentMountPrivate). The container's own mounts keep their options.
  if ((plan.root_propagation & MS_SHARED) != 0 && !MakeParentMountPrivate(plan.rootfs, report)) {
    return false;
  }
  const char* rootfs = plan.rootfs.c_str();
  if (plan.rootfs_parent_fd >= 0) {
    if (::fchdir(plan.rootfs_parent_fd) < 0) {
      return Fail(report, ChildStep::kRootBind, 2);
    }
    rootfs = plan.rootfs_name.c_str();
  }
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return Fail(report, ChildStep::kRootBind, 0);
  }
  int root_fd = ::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (root_fd < 0) {
    return Fail(report, ChildStep::kRootBind, 1);
  }
  bool ok = true;
  for (size_t i = 0; ok && i < plan.mounts.size(); ++i) {
    ok = DoMount(plan, root_fd, i, report);
  }
  for (size_t i = 0; ok && i < plan.devices.size(); ++i) {
    ok = MakeDevice(plan, root_fd, i, report);
  }
  if (ok && plan.pause_for_runtime_hooks) {
    ok = PauseForRuntimeHooks(plan, report);
  }
  // runtime-spec: createContainer hooks run in the container's namespaces after the mounts,
  // before pivot_root, after the runtime's createRuntime hooks.
  if (ok) {
    ok = RunContainerHooks(plan, false, report);
  }
  if (ok) {
    ok = PivotRoot(root_fd, plan.no_pivot, report);
  }
  ::close(root_fd);
  return ok;
}

bool FinishRootfs(const ChildPlan& plan, ChildReport& report) {
  if (plan.dev_symlinks && !DevSymlinks(report)) {
    return false;
  }
  if (!plan.sysctls.empty()) {
    int proc_fd = OpenProcRoot();
    if (proc_fd < 0) {
      return Fail(report, ChildStep::kProcfs, 0);
    }
    bool ok = WriteSysctls(plan, proc_fd, report);
    ::close(proc_fd);
    if (!ok) {
      return false;
    }
  }
  if (!MaskPaths(plan, report)) {
    return false;
  }
  for (size_t i = 0; i < plan.readonly_paths.size(); ++i) {
    if (!ReadonlyPath(plan.readonly_paths[i].c_str(), i, report)) {
      return false;
    }
  }
  if (plan.rootfs_readonly) {
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | LockedFlags("/");
    if (::mount(nullptr, "/", nullptr, flags, nullptr) < 0) {
      return Fail(report, ChildStep::kReadonlyRoot, 0);
    }
  }
  return true;
}

}  // namespace cricket::oci::child_internal
