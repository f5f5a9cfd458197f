#pragma once

// Which user a container runs as: CRI's run_as_user / run_as_username / run_as_group /
// supplemental_groups over the image's USER, names resolved in the container's own
// /etc/passwd and /etc/group. additional_gids hold the primary gid, supplemental_groups and,
// under SupplementalGroupsPolicy Merge (the default; not Strict), the user's groups in the
// image's /etc/group.

#include <string>

#include "common/result.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// kInvalidArgument for run_as_group without a user, and for a user or group name the rootfs
// does not know (naming it).
Result<oci::User> ResolveUser(const runtime::v1::LinuxContainerSecurityContext& sc,
                              const std::string& image_user, const std::string& rootfs);

}  // namespace cricket::cri
