#pragma once

// Which user a container runs as: CRI's run_as_user / run_as_username / run_as_group /
// supplemental_groups over the image's USER, names resolved in the container's own
// /etc/passwd and /etc/group. additional_gids hold the primary gid, supplemental_groups and,
// under SupplementalGroupsPolicy Merge (the default; not Strict), the user's groups in the
// image's /etc/group.

#include <string>

#include "common/result.h"
#include "cri/object_info.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// kInvalidArgument for run_as_group without a user, and for a user or group name the rootfs
// does not know (naming it). /etc/passwd and /etc/group are read inside `rootfs`
// (ReadFileInRoot): a missing one knows no names; one that is not a regular file, larger than
// kMaxAccountFileBytes or behind a magic link fails with ReadFileInRoot's code
// (kFailedPrecondition, kResourceExhausted) naming it.
Result<oci::User> ResolveUser(const runtime::v1::LinuxContainerSecurityContext& sc,
                              const std::string& image_user, const std::string& rootfs);

// What ContainerStatus.user reports: `user` kept from the spec made at create.
ContainerUser ContainerUserFromSpec(const oci::User& user);

// The container's recorded user, or for a record written before it was kept, the one in its
// bundle's config.json. kNotFound (or the spec's load error) when neither has it.
Result<ContainerUser> RecordedContainerUser(const ContainerInfo& info);

}  // namespace cricket::cri
