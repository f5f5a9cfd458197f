#pragma once

// CRI devices → OCI: each host device node (or every node below a host directory) appears at
// its container path with the host's type, numbers and mode, and the device cgroup allows it
// with the requested permissions. Privileged containers get every host device, as with
// containerd.

#include "common/result.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// kNotFound naming a missing host path; kInvalidArgument for a path that is not a device (or a
// directory of them) or for permissions other than r, w, m.
Result<void> AddDevices(const ::runtime::v1::ContainerConfig& config, oci::Spec& spec);

// The device nodes below `dir` (recursing), as `prefix` + their path below `dir`. Skips what a
// container's /dev gets anyway (pts, shm, mqueue, fd, ptmx, console) and hidden entries.
Result<std::vector<oci::Device>> DevicesBelow(const std::string& dir, const std::string& prefix);

}  // namespace cricket::cri
