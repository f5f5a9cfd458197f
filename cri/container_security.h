#pragma once

// The CRI security context of a container applied to its OCI spec: privileged mode,
// capabilities (add/drop, ALL), no_new_privs, masked and read-only paths, seccomp
// (RuntimeDefault, Unconfined, Localhost).

#include "common/result.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// kInvalidArgument for an unknown capability or seccomp setting; kNotFound (naming the path)
// for a missing localhost profile.
Result<void> ApplySecurityContext(const runtime::v1::LinuxContainerSecurityContext& sc,
                                  oci::Spec& spec);

}  // namespace cricket::cri
