#include "cri/metrics_descriptors.h"

#include <array>

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;
constexpr auto kCounter = v1::MetricType::COUNTER;
constexpr auto kGauge = v1::MetricType::GAUGE;

constexpr std::array<const char*, 6> kBaseLabelKeys = {"id",        "name", "image",
                                                       "namespace", "pod",  "container"};

// Indexed by MetricId: the static_assert below and MetricSpecsAreIndexedById (unit test) hold it.
constexpr std::array<MetricSpec, static_cast<size_t>(MetricId::kCount)> kSpecs = {{
    {MetricId::kCpuUsageSecondsTotal, "container_cpu_usage_seconds_total",
     "Cumulative cpu time consumed in seconds.", kCounter, ExtraLabel::kCpu},
    {MetricId::kCpuUserSecondsTotal, "container_cpu_user_seconds_total",
     "Cumulative user cpu time consumed in seconds.", kCounter, ExtraLabel::kNone},
    {MetricId::kCpuSystemSecondsTotal, "container_cpu_system_seconds_total",
     "Cumulative system cpu time consumed in seconds.", kCounter, ExtraLabel::kNone},
    {MetricId::kMemoryUsageBytes, "container_memory_usage_bytes",
     "Current memory usage in bytes, including all memory regardless of when it was accessed",
     kGauge, ExtraLabel::kNone},
    {MetricId::kMemoryWorkingSetBytes, "container_memory_working_set_bytes",
     "Current working set in bytes.", kGauge, ExtraLabel::kNone},
    {MetricId::kMemoryRss, "container_memory_rss", "Size of RSS in bytes.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kMemoryCache, "container_memory_cache", "Number of bytes of page cache memory.",
     kGauge, ExtraLabel::kNone},
    {MetricId::kMemoryFailcnt, "container_memory_failcnt", "Number of memory usage hits limits",
     kCounter, ExtraLabel::kNone},
    {MetricId::kOomEventsTotal, "container_oom_events_total",
     "Count of out of memory events observed for the container", kCounter, ExtraLabel::kNone},
    {MetricId::kProcesses, "container_processes",
     "Number of processes running inside the container.", kGauge, ExtraLabel::kNone},
    {MetricId::kThreads, "container_threads", "Number of threads running inside the container",
     kGauge, ExtraLabel::kNone},
    {MetricId::kFsUsageBytes, "container_fs_usage_bytes",
     "Number of bytes that are consumed by the container on this filesystem.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kFsInodesUsed, "container_fs_inodes_used",
     "Number of inodes used by the container's writable layer.", kGauge, ExtraLabel::kNone},
    {MetricId::kFsLimitBytes, "container_fs_limit_bytes",
     "Number of bytes that can be consumed by the container on this filesystem.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kFsInodesTotal, "container_fs_inodes_total", "Number of Inodes", kGauge,
     ExtraLabel::kNone},
    {MetricId::kFsInodesFree, "container_fs_inodes_free", "Number of available Inodes", kGauge,
     ExtraLabel::kNone},
    {MetricId::kStartTimeSeconds, "container_start_time_seconds",
     "Start time of the container since unix epoch in seconds.", kGauge, ExtraLabel::kNone},
    {MetricId::kLastSeen, "container_last_seen", "Last time a container was seen by the exporter",
     kGauge, ExtraLabel::kNone},
    {MetricId::kSpecMemoryLimitBytes, "container_spec_memory_limit_bytes",
     "Memory limit for the container.", kGauge, ExtraLabel::kNone},
    {MetricId::kSpecCpuPeriod, "container_spec_cpu_period", "CPU period of the container.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kSpecCpuQuota, "container_spec_cpu_quota", "CPU quota of the container.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kSpecCpuShares, "container_spec_cpu_shares", "CPU share of the container.", kGauge,
     ExtraLabel::kNone},
    {MetricId::kNetworkReceiveBytesTotal, "container_network_receive_bytes_total",
     "Cumulative count of bytes received", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkReceivePacketsTotal, "container_network_receive_packets_total",
     "Cumulative count of packets received", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkReceiveErrorsTotal, "container_network_receive_errors_total",
     "Cumulative count of errors encountered while receiving", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkReceivePacketsDroppedTotal,
     "container_network_receive_packets_dropped_total",
     "Cumulative count of packets dropped while receiving", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkTransmitBytesTotal, "container_network_transmit_bytes_total",
     "Cumulative count of bytes transmitted", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkTransmitPacketsTotal, "container_network_transmit_packets_total",
     "Cumulative count of packets transmitted", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkTransmitErrorsTotal, "container_network_transmit_errors_total",
     "Cumulative count of errors encountered while transmitting", kCounter, ExtraLabel::kInterface},
    {MetricId::kNetworkTransmitPacketsDroppedTotal,
     "container_network_transmit_packets_dropped_total",
     "Cumulative count of packets dropped while transmitting", kCounter, ExtraLabel::kInterface},
}};

constexpr bool IndexedById() {
  for (size_t i = 0; i < kSpecs.size(); ++i) {
    if (static_cast<size_t>(kSpecs[i].id) != i) {
      return false;
    }
  }
  return true;
}
static_assert(IndexedById(), "kSpecs must list the metrics in the order of enum MetricId");

}  // namespace

std::span<const char* const> BaseLabelKeys() { return kBaseLabelKeys; }

std::span<const MetricSpec> MetricSpecs() { return kSpecs; }

const MetricSpec& SpecOf(MetricId id) { return kSpecs[static_cast<size_t>(id)]; }

void FillMetricDescriptors(v1::ListMetricDescriptorsResponse& resp) {
  for (const MetricSpec& spec : kSpecs) {
    v1::MetricDescriptor& desc = *resp.add_descriptors();
    desc.set_name(spec.name);
    desc.set_help(spec.help);
    for (const char* key : kBaseLabelKeys) {
      desc.add_label_keys(key);
    }
    switch (spec.extra) {
      case ExtraLabel::kNone:
        break;
      case ExtraLabel::kCpu:
        desc.add_label_keys("cpu");
        break;
      case ExtraLabel::kInterface:
        desc.add_label_keys("interface");
        break;
    }
  }
}

}  // namespace cricket::cri
