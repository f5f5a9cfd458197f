#pragma once

// A detached, id-mapped copy of a mount tree: open_tree(OPEN_TREE_CLONE) copies the tree at a
// path, mount_setattr(MOUNT_ATTR_IDMAP) maps its owners through a user namespace. The copy is
// used by fd: the runtime's init move_mount()s it into place (oci/idmap_mount.h, idmapped bind
// mounts) and storage/ hands it to overlayfs as a layer through /proc/self/fd/<fd> (an id-mapped
// snapshot, storage/snapshot_idmap.h). It sits in common/ because oci/ and storage/ both need it
// and neither may depend on the other.
//
// Raw syscalls, not the Syscalls seam: MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the
// filesystem, so only root tests can exercise it (tests/integration/oci/mounts_test.cc and
// tests/integration/cri/pod_users_test.cc).

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

struct IdmappedTreeOptions {
  bool recursive_copy = false;   // copy the submounts too (AT_RECURSIVE on open_tree)
  bool recursive_idmap = false;  // idmap the submounts too (AT_RECURSIVE on mount_setattr)
};

// The copy of the tree at `path`, idmapped through the user namespace `userns_fd`.
// kUnimplemented when the kernel has no open_tree/mount_setattr (before Linux 5.12);
// kInvalidArgument naming `path` when its filesystem (or a copied submount's) cannot be
// idmapped; open_tree's errno otherwise.
Result<UniqueFd> IdmappedTree(const std::string& path, int userns_fd,
                              IdmappedTreeOptions options = {});

// The error of a failed open_tree/mount_setattr: kUnimplemented for ENOSYS, else FromErrno.
Error IdmapSyscallError(int err, const std::string& what);

}  // namespace cricket
