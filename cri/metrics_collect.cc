#include "cri/metrics_collect.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;
constexpr uint64_t kNsPerSecond = 1'000'000'000;

// Appends samples of one label set: the base values once, then one Add per metric.
class SampleWriter {
 public:
  SampleWriter(const MetricLabels& labels, int64_t now_ns,
               google::protobuf::RepeatedPtrField<v1::Metric>& out)
      : labels_(labels), now_ns_(now_ns), out_(out) {}

  // `extra` is the value of the metric's extra label (ExtraLabel), if it has one.
  void Add(MetricId id, uint64_t value, const std::string* extra = nullptr) {
    const MetricSpec& spec = SpecOf(id);
    v1::Metric& m = *out_.Add();
    m.set_name(spec.name);
    m.set_timestamp(now_ns_);
    m.set_metric_type(spec.type);
    auto& values = *m.mutable_label_values();
    values.Reserve(7);
    for (const std::string* v : {&labels_.id, &labels_.name, &labels_.image, &labels_.pod_namespace,
                                 &labels_.pod, &labels_.container}) {
      values.Add()->assign(*v);
    }
    if (spec.extra != ExtraLabel::kNone) {
      values.Add()->assign(extra != nullptr ? *extra : std::string());
    }
    m.mutable_value()->set_value(value);
  }

 private:
  const MetricLabels& labels_;
  int64_t now_ns_;
  google::protobuf::RepeatedPtrField<v1::Metric>& out_;
};

uint64_t NonNegative(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

}  // namespace

void AddContainerMetrics(const ContainerSample& sample,
                         const std::optional<storage::FsCapacity>& fs, int64_t now_ns,
                         v1::ContainerMetrics& out) {
  const oci::CgroupStats& cg = sample.cgroup;
  SampleWriter w(sample.labels, now_ns, *out.mutable_metrics());
  // cAdvisor labels the sum over all CPUs "total"; per-CPU figures would need cpuacct.usage_all
  // (v1 only) and multiply the samples by the CPU count.
  static const std::string kTotal = "total";
  w.Add(MetricId::kCpuUsageSecondsTotal, cg.cpu_usage_ns / kNsPerSecond, &kTotal);
  w.Add(MetricId::kCpuUserSecondsTotal, cg.cpu_user_ns / kNsPerSecond);
  w.Add(MetricId::kCpuSystemSecondsTotal, cg.cpu_system_ns / kNsPerSecond);
  w.Add(MetricId::kMemoryUsageBytes, cg.memory_usage_bytes);
  w.Add(MetricId::kMemoryWorkingSetBytes, cg.memory_working_set_bytes);
  w.Add(MetricId::kMemoryRss, cg.memory_rss_bytes);
  w.Add(MetricId::kMemoryCache, cg.memory_cache_bytes);
  w.Add(MetricId::kMemoryFailcnt, cg.memory_failcnt);
  w.Add(MetricId::kOomEventsTotal, cg.oom_kills);
  w.Add(MetricId::kProcesses, sample.processes);
  // pids.current counts tasks, i.e. threads.
  w.Add(MetricId::kThreads, cg.pids_current);
  if (sample.writable_layer) {
    w.Add(MetricId::kFsUsageBytes, NonNegative(sample.writable_layer->used_bytes));
    w.Add(MetricId::kFsInodesUsed, NonNegative(sample.writable_layer->inodes_used));
  }
  if (fs) {
    w.Add(MetricId::kFsLimitBytes, fs->bytes);
    w.Add(MetricId::kFsInodesTotal, fs->inodes);
    w.Add(MetricId::kFsInodesFree, fs->inodes_free);
  }
  if (sample.started_at_ns > 0) {
    w.Add(MetricId::kStartTimeSeconds, NonNegative(sample.started_at_ns) / kNsPerSecond);
  }
  w.Add(MetricId::kLastSeen, NonNegative(now_ns) / kNsPerSecond);
  // cAdvisor reports the cgroup's limit, 0 when there is none.
  w.Add(MetricId::kSpecMemoryLimitBytes, cg.memory_limit_bytes);
  w.Add(MetricId::kSpecCpuPeriod, NonNegative(sample.spec_cpu_period));
  w.Add(MetricId::kSpecCpuQuota, NonNegative(sample.spec_cpu_quota));
  w.Add(MetricId::kSpecCpuShares, NonNegative(sample.spec_cpu_shares));
}

void AddPodNetworkMetrics(const MetricLabels& labels,
                          const std::vector<network::InterfaceCounters>& interfaces, int64_t now_ns,
                          v1::PodSandboxMetrics& out) {
  SampleWriter w(labels, now_ns, *out.mutable_metrics());
  for (const network::InterfaceCounters& c : interfaces) {
    if (c.name == "lo") {
      continue;
    }
    w.Add(MetricId::kNetworkReceiveBytesTotal, c.rx_bytes, &c.name);
    w.Add(MetricId::kNetworkReceivePacketsTotal, c.rx_packets, &c.name);
    w.Add(MetricId::kNetworkReceiveErrorsTotal, c.rx_errors, &c.name);
    w.Add(MetricId::kNetworkReceivePacketsDroppedTotal, c.rx_dropped, &c.name);
    w.Add(MetricId::kNetworkTransmitBytesTotal, c.tx_bytes, &c.name);
    w.Add(MetricId::kNetworkTransmitPacketsTotal, c.tx_packets, &c.name);
    w.Add(MetricId::kNetworkTransmitErrorsTotal, c.tx_errors, &c.name);
    w.Add(MetricId::kNetworkTransmitPacketsDroppedTotal, c.tx_dropped, &c.name);
  }
}

}  // namespace cricket::cri
