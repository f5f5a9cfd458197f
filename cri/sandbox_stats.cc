// PodSandboxStats and ListPodSandboxStats: CPU, memory and process count of the whole pod,
// the traffic of its network namespace, and its containers' stats.

#include "common/clock.h"
#include "cri/container_spec.h"
#include "cri/label_selector.h"
#include "cri/service.h"
#include "network/interface_stats.h"
#include "oci/cgroup_manager.h"

namespace cricket::cri {
namespace {

// The Kubernetes name of a pod's primary interface.
constexpr const char* kDefaultInterface = "eth0";

void Add(oci::CgroupStats& sum, const oci::CgroupStats& part) {
  sum.cpu_usage_ns += part.cpu_usage_ns;
  sum.memory_usage_bytes += part.memory_usage_bytes;
  sum.memory_working_set_bytes += part.memory_working_set_bytes;
  sum.pids_current += part.pids_current;
}

void FillInterface(const network::InterfaceCounters& counters, v1::NetworkInterfaceUsage& out) {
  out.set_name(counters.name);
  out.mutable_rx_bytes()->set_value(counters.rx_bytes);
  out.mutable_rx_errors()->set_value(counters.rx_errors);
  out.mutable_tx_bytes()->set_value(counters.tx_bytes);
  out.mutable_tx_errors()->set_value(counters.tx_errors);
}

}  // namespace

// nullopt for a cgroup that does not exist (a container that ended and was cleaned up).
Result<std::optional<oci::CgroupStats>> CriService::CgroupStatsAt(const std::string& path) {
  if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
    return std::optional<oci::CgroupStats>();
  }
  auto stats = oci::NewCgroupManager(*deps_.sys, *deps_.cgroups, path)->Stats();
  if (!stats.ok()) {
    if (stats.error().code() == Code::kNotFound) {
      return std::optional<oci::CgroupStats>();
    }
    return stats.error();
  }
  return std::optional(*stats);
}

Result<void> CriService::FillPodSandboxStats(const Sandbox& decoded,
                                             const std::vector<ContainerRecord>& containers,
                                             v1::PodSandboxStats& out) {
  const auto& [sandbox, config, info] = decoded;
  v1::PodSandboxAttributes& attributes = *out.mutable_attributes();
  attributes.set_id(sandbox.id);
  *attributes.mutable_metadata() = config.metadata();
  *attributes.mutable_labels() = config.labels();
  *attributes.mutable_annotations() = config.annotations();

  // The pod's own cgroup (kubelet's cgroup_parent) holds everything of the pod; without one,
  // the pod is its infra process plus its containers.
  oci::CgroupStats total;
  bool from_pod_cgroup = false;
  if (!info.cgroup_parent.empty()) {
    CR_ASSIGN_OR_RETURN(auto pod, CgroupStatsAt(CgroupParentPath(info.cgroup_parent)));
    if (pod) {
      total = *pod;
      from_pod_cgroup = true;
    }
  }
  if (!from_pod_cgroup) {
    CR_ASSIGN_OR_RETURN(auto infra,
                        CgroupStatsAt(ContainerCgroupPath(info.cgroup_parent, sandbox.id)));
    Add(total, infra.value_or(oci::CgroupStats{}));
  }
  v1::LinuxPodSandboxStats& linux = *out.mutable_linux();
  for (const auto& record : containers) {
    if (record.sandbox_id != sandbox.id) {
      continue;
    }
    CR_RETURN_IF_ERROR(FillContainerStats(record, *linux.add_containers()));
    if (!from_pod_cgroup) {
      CR_ASSIGN_OR_RETURN(auto part,
                          CgroupStatsAt(ContainerCgroupPath(info.cgroup_parent, record.id)));
      Add(total, part.value_or(oci::CgroupStats{}));
    }
  }

  const int64_t now = NowUnixNanos();
  linux.mutable_cpu()->set_timestamp(now);
  linux.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(total.cpu_usage_ns);
  linux.mutable_memory()->set_timestamp(now);
  linux.mutable_memory()->mutable_working_set_bytes()->set_value(total.memory_working_set_bytes);
  linux.mutable_memory()->mutable_usage_bytes()->set_value(total.memory_usage_bytes);
  linux.mutable_process()->set_timestamp(now);
  linux.mutable_process()->mutable_process_count()->set_value(total.pids_current);

  // Host-network pods share the node's interfaces: those are the node's stats, not the pod's.
  if (!info.host_network && sandbox.state == SandboxState::kReady && info.infra_pid > 0) {
    auto interfaces = network::ReadInterfaceCounters(info.infra_pid);
    if (interfaces.ok()) {
      v1::NetworkUsage& network = *linux.mutable_network();
      network.set_timestamp(now);
      for (const auto& counters : *interfaces) {
        if (counters.name == "lo") {
          continue;
        }
        if (counters.name == kDefaultInterface) {
          FillInterface(counters, *network.mutable_default_interface());
        }
        FillInterface(counters, *network.add_interfaces());
      }
    }
  }
  return Ok();
}

Result<void> CriService::PodSandboxStats(const v1::PodSandboxStatsRequest& req,
                                         v1::PodSandboxStatsResponse& resp) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveSandbox(req.pod_sandbox_id()));
  CR_ASSIGN_OR_RETURN(Sandbox pod, LoadSandbox(*deps_.store, id));
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  return FillPodSandboxStats(pod, containers, *resp.mutable_stats());
}

Result<void> CriService::ListPodSandboxStats(const v1::ListPodSandboxStatsRequest& req,
                                             v1::ListPodSandboxStatsResponse& resp) {
  return ListPodSandboxStatsInto(
      req.filter(), [&]() -> Result<v1::PodSandboxStats*> { return resp.add_stats(); });
}

Result<void> CriService::ListPodSandboxStatsInto(const v1::PodSandboxStatsFilter& filter,
                                                 const ItemSlot<v1::PodSandboxStats>& slot) {
  CR_ASSIGN_OR_RETURN(auto sandboxes, deps_.store->ListSandboxes());
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  for (const auto& sandbox : sandboxes) {
    // As containerd: a stopped pod has no usage to report.
    if (sandbox.state != SandboxState::kReady ||
        (!filter.id().empty() && !sandbox.id.starts_with(filter.id()))) {
      continue;
    }
    auto config = DecodeConfig(sandbox);
    if (!config.ok() || !LabelsMatch(filter.label_selector(), config->labels())) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(sandbox));
    CR_ASSIGN_OR_RETURN(v1::PodSandboxStats * item, slot());
    CR_RETURN_IF_ERROR(FillPodSandboxStats(Sandbox{sandbox, std::move(*config), std::move(info)},
                                           containers, *item));
  }
  return Ok();
}

}  // namespace cricket::cri
