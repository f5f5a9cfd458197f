#pragma once

// The systemd cgroup driver's translations, pure so they are unit-tested without systemd
// (tests/unit/oci/cgroup_systemd_test.cc):
// - runc's `slice:prefix:name` cgroupsPath and kubelet's slice names to unit names and to the
//   cgroupfs path systemd gives them ("a-b.slice" is /a.slice/a-b.slice, as systemd expands it);
// - OCI resources to unit properties (systemd 252's names; v1 names on v1/hybrid nodes).
// The unit itself is started by whoever can reach D-Bus (cricketd: cri/systemd_scopes.h);
// the limits are also written to the cgroup files by the cgroupfs backends, which cover what
// systemd has no property for (swap, hugetlb, devices, unified keys).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "oci/cgroup_detect.h"
#include "oci/spec.h"
#include "oci/systemd_bus.h"

namespace cricket::oci {

// Where a container lives under the systemd driver.
struct SystemdCgroup {
  std::string slice;  // "kubepods-burstable-pod1.slice" ("-.slice": the root slice)
  std::string unit;   // "cricket-<id>.scope", or a slice when the name is one
  std::string path;   // the cgroupfs path: "/kubepods.slice/.../cricket-<id>.scope"

  bool operator==(const SystemdCgroup&) const = default;
};

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "/". kInvalidArgument for a
// name that is not a slice or that systemd would refuse (a "/", an empty dash component).
Result<std::string> ExpandSlice(const std::string& slice);

// runc's form `[slice]:[prefix]:[name]`: the unit is `<prefix>-<name>.scope` (`<name>.scope`
// without a prefix), or `name` itself when it ends in ".slice"; the slice defaults to
// system.slice. Empty: ":cricket:<id>". kInvalidArgument naming linux.cgroupsPath otherwise.
Result<SystemdCgroup> ParseSystemdCgroupsPath(const std::string& cgroups_path,
                                              const std::string& id);

// The scope of container `id` in `slice` (kubelet's cgroup_parent under the systemd driver).
// kInvalidArgument when `slice` is not a slice name (also when empty).
Result<SystemdCgroup> ContainerScope(const std::string& slice, const std::string& id);

// The inverse of ContainerScope's path: "/x.slice/x-y.slice/cricket-1.scope" -> its slice and
// unit. kInvalidArgument when the path is not a scope directly below a slice's expanded path.
Result<SystemdCgroup> ScopeOfPath(const std::string& path);

// "0-2,7" -> the bitmask AllowedCPUs/AllowedMemoryNodes take (bit n of byte n/8 is CPU n).
// kInvalidArgument naming `field` for anything else.
Result<std::vector<uint8_t>> CpuListMask(const std::string& list, const std::string& field);

// The resource properties systemd can set for `resources`: CPUWeight (CPUShares on v1),
// CPUQuotaPerSecUSec + CPUQuotaPeriodUSec, MemoryMax (MemoryLimit on v1), MemoryHigh (from
// unified memory.high), TasksMax, AllowedCPUs/AllowedMemoryNodes (v2 only: systemd 252 has
// no v1 cpuset), IOWeight (BlockIOWeight on v1). Used for the start and for updates.
Result<std::vector<UnitProperty>> ResourceProperties(const Resources& resources, CgroupMode mode);

// Everything StartTransientUnit gets for a container scope: Description, Slice, Delegate=yes,
// DefaultDependencies=no, the PIDs to move in, accounting on, and ResourceProperties.
Result<std::vector<UnitProperty>> ScopeProperties(const SystemdCgroup& scope,
                                                  const std::vector<uint32_t>& pids,
                                                  const Resources* resources, CgroupMode mode);

// cpu.shares (2..262144) -> CPUWeight (1..10000), the conversion runc and kubelet use.
uint64_t CpuSharesToWeight(uint64_t shares);

}  // namespace cricket::oci
