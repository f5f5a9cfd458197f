#pragma once

// cgroup v2 has no devices.allow: access to device nodes is decided by an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. GenerateDeviceFilter turns the spec's
// linux.resources.devices (v1 semantics: rules apply in order, a later rule wins) into such a
// program; it is pure and unit-tested. AttachDeviceFilter loads and attaches it.

#include <linux/bpf.h>

#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// kInvalidArgument naming the rule for an unknown type or access letter.
Result<std::vector<bpf_insn>> GenerateDeviceFilter(const std::vector<DeviceCgroup>& rules);

// Loads the program and attaches it to the cgroup directory fd (BPF_F_ALLOW_MULTI). The kernel
// keeps it until the cgroup is removed.
Result<void> AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program);

}  // namespace cricket::oci
