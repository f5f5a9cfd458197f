#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/syscalls.h"

namespace cricket {
namespace {

Result<void> Check(int rc, std::string_view action) {
  if (rc < 0) {
    return Error::FromErrno(errno, action);
  }
  return Ok();
}

std::string Action(std::string_view verb, std::string_view object) {
  std::string out(verb);
  out += ' ';
  out += object;
  return out;
}

}  // namespace

Result<UniqueFd> LinuxSyscalls::Open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd < 0) {
    return Error::FromErrno(errno, Action("open", path));
  }
  return UniqueFd(fd);
}

Result<UniqueFd> LinuxSyscalls::Openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd < 0) {
    return Error::FromErrno(errno, Action("openat", path));
  }
  return UniqueFd(fd);
}

Result<void> LinuxSyscalls::Mkdir(const std::string& path, mode_t mode) {
  return Check(::mkdir(path.c_str(), mode), Action("mkdir", path));
}

Result<void> LinuxSyscalls::Chmod(const std::string& path, mode_t mode) {
  return Check(::chmod(path.c_str(), mode), Action("chmod", path));
}

Result<void> LinuxSyscalls::Unlink(const std::string& path) {
  return Check(::unlink(path.c_str()), Action("unlink", path));
}

Result<void> LinuxSyscalls::Rmdir(const std::string& path) {
  return Check(::rmdir(path.c_str()), Action("rmdir", path));
}

Result<void> LinuxSyscalls::Rename(const std::string& from, const std::string& to) {
  return Check(::rename(from.c_str(), to.c_str()), "rename " + from + " to " + to);
}

Result<void> LinuxSyscalls::Flock(int fd, int operation) {
  return Check(::flock(fd, operation), "flock fd " + std::to_string(fd));
}

Result<void> LinuxSyscalls::Fsync(int fd) {
  return Check(::fsync(fd), "fsync fd " + std::to_string(fd));
}

Result<void> LinuxSyscalls::Ftruncate(int fd, off_t length) {
  return Check(::ftruncate(fd, length), "ftruncate fd " + std::to_string(fd));
}

Result<size_t> LinuxSyscalls::Write(int fd, std::string_view data) {
  ssize_t n = ::write(fd, data.data(), data.size());
  if (n < 0) {
    return Error::FromErrno(errno, "write fd " + std::to_string(fd));
  }
  return static_cast<size_t>(n);
}

Result<void> LinuxSyscalls::Mount(const std::string& source, const std::string& target,
                                  const std::string& fstype, unsigned long flags,
                                  const std::string& data) {
  return Check(::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                       fstype.empty() ? nullptr : fstype.c_str(), flags,
                       data.empty() ? nullptr : data.c_str()),
               "mount " + (source.empty() ? fstype : source) + " on " + target);
}

Result<void> LinuxSyscalls::Umount2(const std::string& target, int flags) {
  return Check(::umount2(target.c_str(), flags), Action("umount", target));
}

Result<void> LinuxSyscalls::Kill(pid_t pid, int signal) {
  return Check(::kill(pid, signal), "kill pid " + std::to_string(pid));
}

}  // namespace cricket
