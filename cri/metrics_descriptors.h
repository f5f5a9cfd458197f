#pragma once

// The metrics cricketd reports through ListPodSandboxMetrics/StreamPodSandboxMetrics, described
// once: kubelet calls ListMetricDescriptors once and drops every later sample whose name it did
// not see there, and a sample whose label values do not match its descriptor's label keys one
// for one. The table below is the one place both sides come from (metrics_collect.cc fills
// samples by MetricId), so they cannot drift apart. Pure data, thread-safe.
//
// Names, types and help follow cAdvisor (what kubelet's /metrics/cadvisor served before the
// runtime took over) and CRI-O's implementation. Label keys: CRI-O's ("id", "name", "image"),
// then the ones kubelet's cAdvisor labels carry and dashboards select on ("namespace", "pod",
// "container"); some metrics add one ("cpu", "interface").

#include <cstddef>
#include <span>

#include "runtime/v1/api.pb.h"

namespace cricket::cri {

enum class MetricId : size_t {
  // Container level (one cgroup each).
  kCpuUsageSecondsTotal,
  kCpuUserSecondsTotal,
  kCpuSystemSecondsTotal,
  kMemoryUsageBytes,
  kMemoryWorkingSetBytes,
  kMemoryRss,
  kMemoryCache,
  kMemoryFailcnt,
  kOomEventsTotal,
  kProcesses,
  kThreads,
  kFsUsageBytes,
  kFsInodesUsed,
  kFsLimitBytes,
  kFsInodesTotal,
  kFsInodesFree,
  kStartTimeSeconds,
  kLastSeen,
  kSpecMemoryLimitBytes,
  kSpecCpuPeriod,
  kSpecCpuQuota,
  kSpecCpuShares,
  // Pod level (its network namespace), one sample per interface.
  kNetworkReceiveBytesTotal,
  kNetworkReceivePacketsTotal,
  kNetworkReceiveErrorsTotal,
  kNetworkReceivePacketsDroppedTotal,
  kNetworkTransmitBytesTotal,
  kNetworkTransmitPacketsTotal,
  kNetworkTransmitErrorsTotal,
  kNetworkTransmitPacketsDroppedTotal,
  kCount,
};

// The label a metric has beyond the base ones.
enum class ExtraLabel { kNone, kCpu, kInterface };

struct MetricSpec {
  MetricId id;
  const char* name;
  const char* help;
  ::runtime::v1::MetricType type;
  ExtraLabel extra;
};

// The base label keys, in the order every sample's label values follow.
std::span<const char* const> BaseLabelKeys();

// Every metric, indexed by its MetricId value.
std::span<const MetricSpec> MetricSpecs();
const MetricSpec& SpecOf(MetricId id);

// ListMetricDescriptors' answer: every metric with its help and full label keys.
void FillMetricDescriptors(::runtime::v1::ListMetricDescriptorsResponse& resp);

}  // namespace cricket::cri
