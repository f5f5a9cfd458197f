#pragma once

// The node-side half of CRI mount propagation (containerd's ensureShared /
// ensureSharedOrSlave): a BIDIRECTIONAL mount only propagates when the host mount holding its
// source is shared, a HOST_TO_CONTAINER one when it is shared or a slave. Pure apart from the
// realpath of the source; the mount table comes in as /proc/self/mountinfo text.

#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

struct HostMount {
  std::string mount_point;
  bool shared = false;  // "shared:N" in the optional fields
  bool slave = false;   // "master:N"
};

// The mountinfo entry whose mount point is the longest prefix of the absolute `path` (the last
// one wins when several mounts stack on one point). kNotFound when no entry matches.
Result<HostMount> FindHostMount(std::string_view mountinfo, const std::string& path);

// OK for PRIVATE. Otherwise resolves `host_path` (symlinks too, when it exists) and checks the
// mount holding it: kFailedPrecondition naming `field`, the path and its mount point when the
// propagation cannot work, e.g. `mounts[0].host_path "/data" is on mount "/", which is not
// shared: BIDIRECTIONAL propagation needs a shared host mount (mount --make-rshared /)`.
Result<void> CheckSourcePropagation(const std::string& field, const std::string& host_path,
                                    runtime::v1::MountPropagation propagation,
                                    std::string_view mountinfo);

}  // namespace cricket::cri
