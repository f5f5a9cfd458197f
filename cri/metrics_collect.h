#pragma once

// The samples of ListPodSandboxMetrics, built from figures read elsewhere (cgroup stats, the
// pod's /proc/<pid>/net/dev, the writable layer's usage): pure functions, so unit tests build
// them from fake stats. Each sample names a metric of metrics_descriptors.h and carries one
// label value per label key of its descriptor, in that order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cri/metrics_descriptors.h"
#include "network/interface_stats.h"
#include "oci/cgroup_manager.h"
#include "runtime/v1/api.pb.h"
#include "storage/disk_usage.h"

namespace cricket::cri {

// The base label values of one container's (or a pod's) samples; BaseLabelKeys() order.
struct MetricLabels {
  std::string id;
  std::string name;
  std::string image;
  std::string pod_namespace;
  std::string pod;
  std::string container;
};

// What one container's samples are made of.
struct ContainerSample {
  MetricLabels labels;
  oci::CgroupStats cgroup;
  uint64_t processes = 0;
  // The writable layer; nullopt when it could not be measured (no samples then).
  std::optional<storage::DiskUsage> writable_layer;
  int64_t started_at_ns = 0;
  // From the container's CRI config (LinuxContainerResources); 0 when unset.
  int64_t spec_cpu_period = 0;
  int64_t spec_cpu_quota = 0;
  int64_t spec_cpu_shares = 0;
};

// Appends the container's samples to `out.metrics`, each stamped `now_ns`. Seconds are whole
// seconds (Metric values are integers), truncated as CRI-O does.
// `fs`: the filesystem holding the writable layers, the same for every container.
void AddContainerMetrics(const ContainerSample& sample,
                         const std::optional<storage::FsCapacity>& fs, int64_t now_ns,
                         ::runtime::v1::ContainerMetrics& out);

// Appends the network samples of a pod's interfaces to `out.metrics` (pod level: a network
// namespace is the pod's, not one container's), skipping the loopback as cAdvisor does.
void AddPodNetworkMetrics(const MetricLabels& labels,
                          const std::vector<network::InterfaceCounters>& interfaces, int64_t now_ns,
                          ::runtime::v1::PodSandboxMetrics& out);

}  // namespace cricket::cri
