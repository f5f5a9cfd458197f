// ContainerStatus and ListContainers: records brought up to date with their shims.

#include "cri/container_user.h"
#include "cri/label_selector.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

v1::ContainerState ToCri(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated: return v1::CONTAINER_CREATED;
    case ContainerState::kRunning: return v1::CONTAINER_RUNNING;
    case ContainerState::kExited: return v1::CONTAINER_EXITED;
    case ContainerState::kUnknown: return v1::CONTAINER_UNKNOWN;
  }
  return v1::CONTAINER_UNKNOWN;
}

}  // namespace

Result<void> CriService::ContainerStatus(const v1::ContainerStatusRequest& req,
                                         v1::ContainerStatusResponse& resp) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  CR_ASSIGN_OR_RETURN(ContainerRecord stored, deps_.store->GetContainer(id));
  CR_ASSIGN_OR_RETURN(ContainerRecord record, RefreshContainer(stored));
  return FillContainerStatus(record, *resp.mutable_status());
}

Result<void> CriService::FillContainerStatus(const ContainerRecord& record,
                                             v1::ContainerStatus& status) {
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  CR_ASSIGN_OR_RETURN(v1::ContainerConfig config, DecodeConfig(record));
  status.set_id(record.id);
  *status.mutable_metadata() = config.metadata();
  status.set_state(ToCri(record.state));
  status.set_created_at(record.created_at_ns);
  status.set_started_at(record.started_at_ns);
  status.set_finished_at(record.finished_at_ns);
  status.set_exit_code(record.exit_code);
  status.mutable_image()->set_image(info.image_name);
  status.set_image_ref(info.image_id);
  status.set_image_id(info.image_id);
  status.set_reason(record.reason);
  status.set_message(record.message);
  *status.mutable_labels() = config.labels();
  *status.mutable_annotations() = config.annotations();
  *status.mutable_mounts() = config.mounts();
  status.set_log_path(info.log_path);
  *status.mutable_resources()->mutable_linux() = config.linux().resources();
  // CRI: the identity the container's first process got (critest checks it against the
  // SupplementalGroupsPolicy). Kept in the record: an event fills this for every container of
  // the pod, too often to read each bundle's config.json.
  if (auto user = RecordedContainerUser(info); user.ok()) {
    v1::LinuxContainerUser& linux_user = *status.mutable_user()->mutable_linux();
    linux_user.set_uid(user->uid);
    linux_user.set_gid(user->gid);
    for (uint32_t gid : user->supplemental_groups) {
      linux_user.add_supplemental_groups(gid);
    }
  }
  return Ok();
}

Result<void> CriService::ListContainers(const v1::ListContainersRequest& req,
                                        v1::ListContainersResponse& resp) {
  return ListContainersInto(req.filter(),
                            [&]() -> Result<v1::Container*> { return resp.add_containers(); });
}

Result<void> CriService::ListContainersInto(const v1::ContainerFilter& filter,
                                            const ItemSlot<v1::Container>& slot) {
  CR_ASSIGN_OR_RETURN(auto records, deps_.store->ListContainers());
  for (auto& stored : records) {
    if (!filter.id().empty() && !stored.id.starts_with(filter.id())) {
      continue;
    }
    if (!filter.pod_sandbox_id().empty() && !stored.sandbox_id.starts_with(filter.pod_sandbox_id())) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(ContainerRecord record, RefreshContainer(stored));
    if (filter.has_state() && filter.state().state() != ToCri(record.state)) {
      continue;
    }
    auto config = DecodeConfig(record);
    if (!config.ok() || !LabelsMatch(filter.label_selector(), config->labels())) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
    CR_ASSIGN_OR_RETURN(v1::Container * added, slot());
    v1::Container& item = *added;
    item.set_id(record.id);
    item.set_pod_sandbox_id(record.sandbox_id);
    *item.mutable_metadata() = config->metadata();
    item.mutable_image()->set_image(info.image_name);
    item.set_image_ref(info.image_id);
    item.set_image_id(info.image_id);
    item.set_state(ToCri(record.state));
    item.set_created_at(record.created_at_ns);
    *item.mutable_labels() = config->labels();
    *item.mutable_annotations() = config->annotations();
  }
  return Ok();
}

}  // namespace cricket::cri
