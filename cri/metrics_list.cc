// ListMetricDescriptors, ListPodSandboxMetrics and StreamPodSandboxMetrics: the cAdvisor-style
// metrics kubelet serves on /metrics/cadvisor when it takes pod and container stats from the
// runtime. Read on demand (no background collector: an idle node pays nothing), per running
// container from its cgroup (v1 or v2, the same readers as ContainerStats), per pod from its
// infra process's /proc/<pid>/net/dev.

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "cri/chunked_stream.h"
#include "cri/container_spec.h"
#include "cri/metrics_collect.h"
#include "cri/metrics_descriptors.h"
#include "cri/service.h"
#include "network/interface_stats.h"
#include "oci/cgroup_manager.h"
#include "storage/disk_usage.h"

namespace cricket::cri {
namespace {

// The image as kubelet named it: it sends the resolved reference in `image` and the pod spec's
// name in `user_specified_image`.
const std::string& ImageName(const v1::ContainerConfig& config) {
  return config.image().user_specified_image().empty() ? config.image().image()
                                                       : config.image().user_specified_image();
}

}  // namespace

Result<void> CriService::ListMetricDescriptors(const v1::ListMetricDescriptorsRequest& /*req*/,
                                               v1::ListMetricDescriptorsResponse& resp) {
  FillMetricDescriptors(resp);
  return Ok();
}

Result<void> CriService::ListPodSandboxMetrics(const v1::ListPodSandboxMetricsRequest& /*req*/,
                                               v1::ListPodSandboxMetricsResponse& resp) {
  return CollectPodSandboxMetrics([&](v1::PodSandboxMetrics& pod) {
    resp.add_pod_metrics()->Swap(&pod);
    return true;
  });
}

Result<void> CriService::StreamPodSandboxMetrics(
    const v1::StreamPodSandboxMetricsRequest& /*req*/,
    StreamSink<v1::StreamPodSandboxMetricsResponse>& sink) {
  // Chunks of the Stream* lists' size, each also bounded in bytes (cri/chunked_stream.h).
  return StreamInChunks(
      sink, &v1::StreamPodSandboxMetricsResponse::mutable_pod_sandbox_metrics,
      deps_.stream_chunk_items, [&](const ItemSlot<v1::PodSandboxMetrics>& slot) -> Result<void> {
        Result<void> slot_error = Ok();
        auto collected = CollectPodSandboxMetrics([&](v1::PodSandboxMetrics& pod) {
          auto item = slot();
          if (!item.ok()) {
            slot_error = item.error();
            return false;
          }
          (*item)->Swap(&pod);
          return true;
        });
        CR_RETURN_IF_ERROR(slot_error);
        return collected;
      });
}

Result<void> CriService::CollectPodSandboxMetrics(
    const std::function<bool(v1::PodSandboxMetrics&)>& each) {
  CR_ASSIGN_OR_RETURN(auto sandboxes, deps_.store->ListSandboxes());
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  // Running containers by pod, so each pod finds its own without scanning them all.
  std::unordered_map<std::string, std::vector<const ContainerRecord*>> by_pod;
  for (const auto& record : containers) {
    if (record.state == ContainerState::kRunning) {
      by_pod[record.sandbox_id].push_back(&record);
    }
  }
  // One statfs for all: every writable layer lives on the snapshots' filesystem.
  const std::string snapshots = deps_.config->root + "/snapshots";
  std::optional<storage::FsCapacity> fs;
  if (auto capacity = storage::MeasureFsCapacity(snapshots); capacity.ok()) {
    fs = *capacity;
  }
  for (const auto& sandbox : sandboxes) {
    // As ListPodSandboxStats: a stopped pod has no usage to report.
    if (sandbox.state != SandboxState::kReady) {
      continue;
    }
    auto config = DecodeConfig(sandbox);
    auto info = DecodeInfo(sandbox);
    if (!config.ok() || !info.ok()) {
      continue;  // a corrupt record: ListPodSandbox skips it too
    }
    v1::PodSandboxMetrics pod;
    pod.set_pod_sandbox_id(sandbox.id);
    const int64_t now_ns = NowUnixNanos();
    // Pod-level samples are labelled as CRI-O labels them: name "POD", no image, no container.
    MetricLabels pod_labels{.id = sandbox.id,
                            .name = "POD",
                            .image = "",
                            .pod_namespace = config->metadata().namespace_(),
                            .pod = config->metadata().name(),
                            .container = ""};
    // Host-network pods share the node's interfaces: those are the node's, not the pod's.
    if (!info->host_network && info->infra_pid > 0) {
      if (auto interfaces = network::ReadInterfaceCounters(info->infra_pid); interfaces.ok()) {
        AddPodNetworkMetrics(pod_labels, *interfaces, now_ns, pod);
      }
    }
    for (const ContainerRecord* record : by_pod[sandbox.id]) {
      CollectContainerMetrics(*record, *info, pod_labels, fs, now_ns, *pod.add_container_metrics());
    }
    if (!each(pod)) {
      return Error(Code::kCancelled, "pod sandbox metrics: the client went away");
    }
  }
  return Ok();
}

void CriService::CollectContainerMetrics(const ContainerRecord& record, const SandboxInfo& pod_info,
                                         const MetricLabels& pod_labels,
                                         const std::optional<storage::FsCapacity>& fs,
                                         int64_t now_ns, v1::ContainerMetrics& out) {
  out.set_container_id(record.id);
  // A corrupt config leaves the labels and spec figures empty; the usage is still reported.
  const v1::ContainerConfig config = DecodeConfig(record).value_or({});
  ContainerSample sample;
  sample.labels = pod_labels;
  sample.labels.id = record.id;
  sample.labels.name = config.metadata().name();
  sample.labels.image = ImageName(config);
  sample.labels.container = config.metadata().name();
  sample.started_at_ns = record.started_at_ns;
  const auto& resources = config.linux().resources();
  sample.spec_cpu_period = resources.cpu_period();
  sample.spec_cpu_quota = resources.cpu_quota();
  sample.spec_cpu_shares = resources.cpu_shares();
  if (deps_.cgroups.ok() && deps_.sys != nullptr) {
    auto cgroup = oci::NewCgroupManager(*deps_.sys, *deps_.cgroups,
                                        ContainerCgroupPath(pod_info.cgroup_parent, record.id));
    // A cgroup that cannot be read reports zeros rather than failing the node's whole scrape.
    if (auto stats = cgroup->Stats(); stats.ok()) {
      sample.cgroup = *stats;
    } else {
      log::Warn({.rpc = "ListPodSandboxMetrics", .ctr = record.id}, "cgroup stats: {}",
                stats.error().ToString());
    }
    if (auto pids = cgroup->Pids(); pids.ok()) {
      sample.processes = pids->size();
    }
  }
  if (auto usage = deps_.rootfs->Usage(record.id); usage.ok()) {
    sample.writable_layer = *usage;
  }
  AddContainerMetrics(sample, fs, now_ns, out);
}

}  // namespace cricket::cri
