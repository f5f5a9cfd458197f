#pragma once

// The pod-level resources of UpdatePodSandboxResources (in-place pod resize, KEP-1287) checked
// and turned into the limits of the pod's cgroup. Pure; unit-tested without root.
//
// kubelet sends `resources` (the sum of its containers' resources) and `overhead` (the pod's
// RuntimeClass overhead); it sizes a pod cgroup as their sum (pkg/kubelet/cm ResourceConfigForPod
// adds the overhead), and so does this: shares, quota, memory and hugepages add up; a zero CPU
// quota or memory limit in `resources` means the pod has none, which is written as unlimited
// (-1), so that a resize can also lift a limit. The cpusets and `unified` come from `resources`
// (over `overhead`'s). oom_score_adj has no cgroup file: checked, not applied.

#include <string_view>

#include "common/result.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// kInvalidArgument naming the field (`field_prefix` + "." + name, e.g. "resources.cpu_quota")
// for a value the kernel or CRI would refuse: a negative limit (other than -1 where it means
// unlimited), a CPU period outside 1 ms..1 s, a quota below 1 ms, shares outside 2..262144, a
// swap limit below the memory limit, an oom_score_adj outside -1000..1000, a malformed CPU or
// memory-node list, hugepage size or `unified` key.
Result<void> ValidatePodResources(const ::runtime::v1::LinuxContainerResources& r,
                                  std::string_view field_prefix);

// Both parts validated, then the pod cgroup's limits as described above. kInvalidArgument as
// ValidatePodResources, or when both parts set different CPU periods.
Result<oci::Resources> PodCgroupResources(const ::runtime::v1::LinuxContainerResources& overhead,
                                          const ::runtime::v1::LinuxContainerResources& resources);

}  // namespace cricket::cri
