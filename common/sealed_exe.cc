#include "common/sealed_exe.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace cricket {
namespace {

#ifndef MFD_EXEC
constexpr unsigned kMfdExec = 0x10U;  // Linux 6.3: executable even under vm.memfd_noexec=1
#else
constexpr unsigned kMfdExec = MFD_EXEC;
#endif
#ifndef F_SEAL_EXEC
constexpr int kSealExec = 0x20;  // Linux 6.3: the mode's exec bits stay as they are
#else
constexpr int kSealExec = F_SEAL_EXEC;
#endif
constexpr int kWriteSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// overlayfs splits "lowerdir" at ':' and takes '\' as an escape.
std::string EscapeLowerDir(const std::string& dir) {
  std::string out;
  for (char c : dir) {
    if (c == ':' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Result<SealedExe> SealWithOverlay(const std::string& dir, const std::string& name,
                                  const std::string& scratch_dir) {
  UniqueFd ctx(static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  if (!ctx.valid()) {
    return Error::FromErrno(errno, "fsopen overlay");
  }
  // The executable's directory on top, so that a same-named entry in scratch_dir is hidden.
  const std::string lower = EscapeLowerDir(dir) + ":" + EscapeLowerDir(scratch_dir);
  if (::syscall(SYS_fsconfig, ctx.get(), FSCONFIG_SET_STRING, "lowerdir", lower.c_str(), 0) < 0) {
    return Error::FromErrno(errno, "overlay lowerdir=" + lower);
  }
  // xino would only add dmesg noise when the layers are on different filesystems.
  (void)::syscall(SYS_fsconfig, ctx.get(), FSCONFIG_SET_STRING, "xino", "off", 0);
  if (::syscall(SYS_fsconfig, ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    return Error::FromErrno(errno, "create overlay lowerdir=" + lower);
  }
  UniqueFd mnt(
      static_cast<int>(::syscall(SYS_fsmount, ctx.get(), FSMOUNT_CLOEXEC,
                                 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)));
  if (!mnt.valid()) {
    return Error::FromErrno(errno, "fsmount overlay");
  }
  // The fd keeps the detached mount alive; the mount fd itself is not needed any more.
  SealedExe sealed{
      UniqueFd(::openat(mnt.get(), name.c_str(),  // NOLINT(cppcoreguidelines-pro-type-vararg)
                        O_PATH | O_NOFOLLOW | O_CLOEXEC)),
      SealMethod::kOverlay};
  if (!sealed.fd.valid()) {
    return Error::FromErrno(errno, "open " + name + " through overlay lowerdir=" + lower);
  }
  return sealed;
}

Result<SealedExe> SealWithMemfd(const std::string& path, const std::string& name) {
  UniqueFd src(
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  struct stat st {};
  if (!src.valid() || ::fstat(src.get(), &st) < 0) {
    return Error::FromErrno(errno, "open " + path);
  }
  const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  UniqueFd memfd(::memfd_create(name.c_str(), flags | kMfdExec));
  if (!memfd.valid() && errno == EINVAL) {
    memfd.Reset(::memfd_create(name.c_str(), flags));  // a kernel before 6.3
  }
  if (!memfd.valid()) {
    return Error::FromErrno(errno, "memfd_create for " + path);
  }
  // Written, not mapped: the copy is page cache of the memfd, in no process's RSS.
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n =
        ::sendfile(memfd.get(), src.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n < 0 ? Error::FromErrno(errno, "copy " + path + " into a memfd")
                   : Error(Code::kInternal, path + " shrank while it was copied");
    }
  }
  (void)::fcntl(memfd.get(), F_ADD_SEALS, kSealExec);
  if (::fcntl(memfd.get(), F_ADD_SEALS, kWriteSeals) < 0) {
    return Error::FromErrno(errno, "seal the memfd copy of " + path);
  }
  return SealedExe{std::move(memfd), SealMethod::kMemfd};
}

}  // namespace

const char* SealMethodName(SealMethod method) {
  return method == SealMethod::kOverlay ? "overlay" : "memfd";
}

Result<SealedExe> SealExecutable(const std::string& path, const SealOptions& options) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash + 1 == path.size()) {
    return Error(Code::kInvalidArgument, "seal executable: not an absolute file path: " + path);
  }
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  if (options.allow_overlay && !options.scratch_dir.empty()) {
    auto sealed = SealWithOverlay(dir, name, options.scratch_dir);
    if (sealed.ok()) {
      return sealed;
    }
    // No overlayfs or fsopen, overlapping directories, an unprivileged caller: copy instead.
  }
  return SealWithMemfd(path, name);
}

bool IsSealedFd(int fd, bool accept_overlay) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals >= 0) {
    return (seals & kWriteSeals) == kWriteSeals;
  }
  struct statfs fs {};
  return accept_overlay && ::fstatfs(fd, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC &&
         (fs.f_flags & ST_RDONLY) != 0;
}

Error ExecSealed(int fd, char* const argv[], char* const envp[]) {
  ::syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
  return Error::FromErrno(errno, "execute the sealed executable");
}

}  // namespace cricket
