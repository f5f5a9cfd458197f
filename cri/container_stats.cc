// ContainerStats and ListContainerStats: CPU and memory from the container's cgroup, and the
// size of its writable layer.

#include "common/clock.h"
#include "cri/container_spec.h"
#include "cri/label_selector.h"
#include "cri/service.h"
#include "oci/cgroup_manager.h"

namespace cricket::cri {

Result<void> CriService::FillContainerStats(const ContainerRecord& record, v1::ContainerStats& out) {
  // A corrupt config leaves the attributes empty, the usage is still reported.
  const v1::ContainerConfig config = DecodeConfig(record).value_or({});
  v1::ContainerAttributes& attributes = *out.mutable_attributes();
  attributes.set_id(record.id);
  *attributes.mutable_metadata() = config.metadata();
  *attributes.mutable_labels() = config.labels();
  *attributes.mutable_annotations() = config.annotations();

  const int64_t now = NowUnixNanos();
  out.mutable_cpu()->set_timestamp(now);
  out.mutable_memory()->set_timestamp(now);
  CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, deps_.store->GetSandbox(record.sandbox_id));
  CR_ASSIGN_OR_RETURN(SandboxInfo sandbox_info, DecodeInfo(sandbox));
  if (deps_.cgroups.ok() && deps_.sys != nullptr) {
    auto cgroup = oci::NewCgroupManager(*deps_.sys, *deps_.cgroups,
                                        ContainerCgroupPath(sandbox_info.cgroup_parent, record.id));
    auto stats = cgroup->Stats();
    // A container whose cgroup is gone (it exited and was cleaned up) reports zero use.
    if (stats.ok()) {
      out.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(stats->cpu_usage_ns);
      out.mutable_memory()->mutable_working_set_bytes()->set_value(stats->memory_working_set_bytes);
      out.mutable_memory()->mutable_usage_bytes()->set_value(stats->memory_usage_bytes);
      if (stats->memory_limit_bytes > 0) {
        out.mutable_memory()->mutable_available_bytes()->set_value(
            stats->memory_limit_bytes > stats->memory_working_set_bytes
                ? stats->memory_limit_bytes - stats->memory_working_set_bytes
                : 0);
      }
    } else if (stats.error().code() != Code::kNotFound) {
      return stats.error();
    }
  }
  v1::FilesystemUsage& layer = *out.mutable_writable_layer();
  layer.set_timestamp(now);
  layer.mutable_fs_id()->set_mountpoint(deps_.config->root + "/snapshots");
  if (auto usage = deps_.rootfs->Usage(record.id); usage.ok()) {
    layer.mutable_used_bytes()->set_value(static_cast<uint64_t>(usage->used_bytes));
    layer.mutable_inodes_used()->set_value(static_cast<uint64_t>(usage->inodes_used));
  }
  return Ok();
}

Result<void> CriService::ContainerStats(const v1::ContainerStatsRequest& req,
                                        v1::ContainerStatsResponse& resp) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  CR_ASSIGN_OR_RETURN(ContainerRecord record, deps_.store->GetContainer(id));
  return FillContainerStats(record, *resp.mutable_stats());
}

Result<void> CriService::ListContainerStats(const v1::ListContainerStatsRequest& req,
                                            v1::ListContainerStatsResponse& resp) {
  return ListContainerStatsInto(
      req.filter(), [&]() -> Result<v1::ContainerStats*> { return resp.add_stats(); });
}

Result<void> CriService::ListContainerStatsInto(const v1::ContainerStatsFilter& filter,
                                                const ItemSlot<v1::ContainerStats>& slot) {
  CR_ASSIGN_OR_RETURN(auto records, deps_.store->ListContainers());
  for (const auto& record : records) {
    if (!filter.id().empty() && !record.id.starts_with(filter.id())) {
      continue;
    }
    if (!filter.pod_sandbox_id().empty() && !record.sandbox_id.starts_with(filter.pod_sandbox_id())) {
      continue;
    }
    auto config = DecodeConfig(record);
    if (!config.ok() || !LabelsMatch(filter.label_selector(), config->labels())) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(v1::ContainerStats * item, slot());
    CR_RETURN_IF_ERROR(FillContainerStats(record, *item));
  }
  return Ok();
}

}  // namespace cricket::cri
