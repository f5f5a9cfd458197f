// UpdateContainerResources: new cgroup limits for a created or running container.

#include "common/log.h"
#include "cri/container_spec.h"
#include "cri/service.h"
#include "oci/cgroup_manager.h"
#include "oci/runtime.h"

namespace cricket::cri {

Result<void> CriService::UpdateContainerResources(const v1::UpdateContainerResourcesRequest& req,
                                                  v1::UpdateContainerResourcesResponse& /*resp*/) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  auto lock = locks_.Acquire(id);
  CR_ASSIGN_OR_RETURN(ContainerRecord stored, deps_.store->GetContainer(id));
  CR_ASSIGN_OR_RETURN(ContainerRecord record, RefreshContainer(stored));
  if (record.state != ContainerState::kRunning && record.state != ContainerState::kCreated) {
    return Error(Code::kFailedPrecondition, "container " + id + " is not running");
  }
  if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
    return Error(Code::kFailedPrecondition, "no cgroup hierarchy to update");
  }
  oci::Resources resources;
  ApplyCriResources(req.linux(), resources);
  // Cgroup writes need no shim round trip; with an external runtime its state is not ours to
  // read, but the cgroup is the one our spec named.
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  if (info.runtime_handler.empty()) {
    oci::Runtime runtime(*deps_.sys, deps_.config->state + "/runtime", *deps_.cgroups);
    CR_RETURN_IF_ERROR(runtime.Update(id, resources));
  } else {
    CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, deps_.store->GetSandbox(record.sandbox_id));
    CR_ASSIGN_OR_RETURN(SandboxInfo sandbox_info, DecodeInfo(sandbox));
    CR_RETURN_IF_ERROR(
        oci::NewCgroupManager(*deps_.sys, *deps_.cgroups,
                              ContainerCgroupPath(sandbox_info.cgroup_parent, id))
            ->Update(resources));
  }
  // Remember them, so ContainerStatus and a later restart see what is in force.
  // A corrupt config is left as it is: the new limits are in force, but not remembered.
  if (auto config = DecodeConfig(record); config.ok()) {
    *config->mutable_linux()->mutable_resources() = req.linux();
    CR_RETURN_IF_ERROR(EncodeConfig(*config, record));
    CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  }
  log::Info({.pod = record.sandbox_id, .ctr = id}, "resources updated");
  return Ok();
}

}  // namespace cricket::cri
