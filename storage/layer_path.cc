#include "storage/layer_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/openat2.h"

namespace cricket::storage {
namespace {

constexpr int kMaxRemoveDepth = 4096;

// Retried while a rename races with the walk (EAGAIN) or a signal interrupts it.
int OpenInLayer(int dirfd, const char* path, int flags) {
  int fd;
  do {
    fd = Openat2(dirfd, path, flags,
                 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

Result<void> RemoveAllAtDepth(int dir_fd, const std::string& name, int depth) {
  if (depth > kMaxRemoveDepth) {
    return Error(Code::kResourceExhausted, "remove " + name + ": directory tree too deep");
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return Error::FromErrno(errno, "remove " + name);
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (child < 0) {
    return Error::FromErrno(errno, "open " + name + " for removal");
  }
  DIR* d = ::fdopendir(child);
  if (d == nullptr) {
    ::close(child);
    return Error::FromErrno(errno, "read directory " + name);
  }
  Result<void> result = Ok();
  while (dirent* e = ::readdir(d)) {
    std::string entry = e->d_name;
    if (entry == "." || entry == "..") {
      continue;
    }
    result = RemoveAllAtDepth(::dirfd(d), entry, depth + 1);
    if (!result.ok()) {
      break;
    }
  }
  ::closedir(d);
  CR_RETURN_IF_ERROR(result);
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove directory " + name);
  }
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> SplitEntryPath(std::string_view name) {
  if (!name.empty() && name.front() == '/') {
    return Error(Code::kInvalidArgument,
                 "layer entry \"" + std::string(name) + "\" is an absolute path");
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    std::string_view comp = name.substr(start, end - start);
    if (comp == "..") {
      return Error(Code::kInvalidArgument,
                   "layer entry \"" + std::string(name) + "\" points outside the layer");
    }
    if (!comp.empty() && comp != ".") {
      out.emplace_back(comp);
    }
    start = end + 1;
  }
  return out;
}

Result<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags,
                            const std::string& what) {
  int fd = OpenInLayer(root_fd, path.empty() ? "." : path.c_str(), flags);
  if (fd < 0) {
    if (errno == ELOOP || errno == EXDEV) {
      return Error(Code::kInvalidArgument,
                   "layer entry \"" + what + "\" goes through a symlink or mount point", errno);
    }
    return Error::FromErrno(errno, "open " + path + " in layer");
  }
  return UniqueFd(fd);
}

Result<UniqueFd> OpenDirInRoot(int root_fd, const std::vector<std::string>& components, bool create,
                               const std::string& what) {
  std::string path;
  for (const std::string& c : components) {
    path += (path.empty() ? "" : "/") + c;
  }
  auto direct = OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY, what);
  if (direct.ok() || direct.error().code() != Code::kNotFound || !create) {
    return direct;
  }
  // Some parents are missing (tar streams need not list directories first): walk and create.
  CR_ASSIGN_OR_RETURN(UniqueFd cur, OpenInRoot(root_fd, "", O_PATH | O_DIRECTORY, what));
  for (const std::string& c : components) {
    auto next = OpenInRoot(cur.get(), c, O_PATH | O_DIRECTORY, what);
    if (!next.ok() && next.error().code() == Code::kNotFound) {
      if (::mkdirat(cur.get(), c.c_str(), 0755) < 0 && errno != EEXIST) {
        return Error::FromErrno(errno, "create directory " + c + " for layer entry " + what);
      }
      next = OpenInRoot(cur.get(), c, O_PATH | O_DIRECTORY, what);
    }
    if (!next.ok()) {
      if (next.error().sys_errno() == ENOTDIR) {
        return Error(Code::kInvalidArgument,
                     "layer entry \"" + what + "\" has a non-directory parent " + c);
      }
      return std::move(next).error();
    }
    cur = std::move(*next);
  }
  return cur;
}

Result<void> RemoveAllAt(int dir_fd, const std::string& name) {
  return RemoveAllAtDepth(dir_fd, name, 0);
}

}  // namespace cricket::storage
