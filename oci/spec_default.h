#pragma once

// The default spec, with the defaults containerd and CRI-O give a container: the standard
// mounts, masked and read-only paths, the default capability set, a device cgroup that denies
// everything but the default devices, noNewPrivileges, and pid/ipc/uts/mount/network namespaces.

#include <string>
#include <vector>

#include "oci/spec.h"

namespace cricket::oci {

// The capability set containerd, CRI-O and Docker grant by default.
const std::vector<std::string>& DefaultCapabilities();

// The device nodes every container gets in /dev (null, zero, full, random, urandom, tty),
// whatever linux.devices says. The runtime creates them; the generator allows them.
const std::vector<Device>& DefaultDevices();

// A complete spec running `sh` in "rootfs" (relative to the bundle), as `runc spec` writes.
Spec DefaultSpec();

}  // namespace cricket::oci
