#include "common/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/unique_fd.h"

namespace cricket {
Result<void> WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Error::FromErrno(errno, "open directory " + dir);
  }
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      out.push_back(std::move(name));
    }
  }
  ::closedir(d);
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + path);
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "read " + path);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<void> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                             Durability durability) {
  const bool sync = durability == Durability::kPowerLoss;
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create " + tmp);
  }
  auto written = WriteAll(fd.get(), data, tmp);
  if (written.ok() && sync && ::fsync(fd.get()) < 0) {
    written = Error::FromErrno(errno, "fsync " + tmp);
  }
  if (written.ok() && ::fchmod(fd.get(), mode) < 0) {
    written = Error::FromErrno(errno, "chmod " + tmp);
  }
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) < 0) {
    written = Error::FromErrno(errno, "rename " + tmp + " to " + path);
  }
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (!sync) {
    return Ok();
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  FsyncDir(dir.empty() ? "." : dir);
  return Ok();
}

void FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd.valid()) {
    ::fsync(fd.get());
  }
}

Result<void> WriteKernelFile(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + path);
  }
  if (::write(fd.get(), data.data(), data.size()) < 0) {
    return Error::FromErrno(errno, "write " + std::string(data) + " to " + path);
  }
  return Ok();
}

Result<void> MakeDirs(const std::string& path, mode_t mode) {
  std::string current;
  for (const auto& part : std::filesystem::path(path)) {
    current = (std::filesystem::path(current) / part).string();
    if (part == "/" || part.empty()) {
      continue;
    }
    if (::mkdir(current.c_str(), mode) < 0 && errno != EEXIST) {
      return Error::FromErrno(errno, "mkdir " + current);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return Error::FromErrno(errno, "stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Code::kFailedPrecondition, path + " exists and is not a directory");
  }
  return Ok();
}

}  // namespace cricket
