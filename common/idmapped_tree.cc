#include "common/idmapped_tree.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace cricket {

Error IdmapSyscallError(int err, const std::string& what) {
  if (err == ENOSYS) {
    return Error(Code::kUnimplemented,
                 what + ": idmapped mounts need open_tree and mount_setattr (Linux 5.12 or later)");
  }
  return Error::FromErrno(err, what);
}

Result<UniqueFd> IdmappedTree(const std::string& path, int userns_fd, IdmappedTreeOptions options) {
  unsigned int open_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (options.recursive_copy) {
    open_flags |= AT_RECURSIVE;
  }
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, path.c_str(), open_flags)));
  if (!tree.valid()) {
    return IdmapSyscallError(errno, "open_tree " + path);
  }
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  unsigned int at_flags = AT_EMPTY_PATH | (options.recursive_idmap ? AT_RECURSIVE : 0);
  if (::syscall(SYS_mount_setattr, tree.get(), "", at_flags, &attr, sizeof(attr)) < 0) {
    if (errno == EINVAL) {
      const bool submounts = options.recursive_copy || options.recursive_idmap;
      return Error(Code::kInvalidArgument, "idmap " + path + ": its filesystem" +
                                               (submounts ? " (or a submount's)" : "") +
                                               " cannot be idmapped");
    }
    return IdmapSyscallError(errno, "idmap " + path);
  }
  return tree;
}

}  // namespace cricket
