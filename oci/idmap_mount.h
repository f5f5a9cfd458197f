#pragma once

// Idmapped bind mounts (runtime-spec mounts[].uidMappings/gidMappings, options idmap/ridmap).
// The runtime makes them before clone: open_tree(OPEN_TREE_CLONE) gives a detached copy of the
// source, mount_setattr(MOUNT_ATTR_IDMAP) maps it through a user namespace made for the purpose,
// and the init move_mount()s the copy into place. MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the
// user namespace the filesystem was mounted in, which an init in its own user namespace lacks
// (runc prepares these mount fds in the runtime too).

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "oci/child_plan.h"
#include "oci/spec.h"

namespace cricket::oci {

// A user namespace with these mappings, held by an fd (the process that made it is gone).
// Errors come from clone, the map writes or the open of /proc/<pid>/ns/user.
Result<UniqueFd> MakeUserNamespace(const std::vector<IdMapping>& uid_mappings,
                                   const std::vector<IdMapping>& gid_mappings);

// Fills tree_fd of every idmapped step of the plan (the fds go to plan.owned_fds), each an
// IdmappedTree (common/idmapped_tree.h) through a user namespace with the step's mappings.
// kUnimplemented when the kernel has no open_tree/mount_setattr; kInvalidArgument naming the
// source when its filesystem cannot be idmapped.
Result<void> PrepareIdmappedMounts(ChildPlan& plan);

}  // namespace cricket::oci
