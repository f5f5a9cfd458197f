// UpdateContainerResources: new cgroup limits for a created or running container.

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "cri/container_spec.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "cri/systemd_scopes.h"

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
  CR_RETURN_IF_ERROR(CheckCriResources(req.linux(), "linux"));
  oci::Resources resources;
  ApplyCriResources(req.linux(), resources);
  // Cgroup writes need no shim round trip: the handler's runtime, called from here.
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  CR_ASSIGN_OR_RETURN(auto runtime, ContainerRuntimeFor(*deps_.config, info.runtime_handler,
                                                        *deps_.sys, *deps_.cgroups, info.shim_dir));
  // systemd driver: the unit's properties too, or systemd would put its own values back.
  if (deps_.scopes != nullptr) {
    if (auto scope = RememberedScope(info.shim_dir); scope.ok()) {
      CR_RETURN_IF_ERROR(deps_.scopes->Update(*scope, resources));
    }
  }
  auto config = DecodeConfig(record);
  CR_RETURN_IF_ERROR(runtime->Update(id, resources));
  // A failure from here on puts the limits of the record back: a failed update changes
  // nothing. (A crash here leaves the new limits in force and the old ones recorded; the
  // next update, or kubelet's retry, makes them agree.)
  Cleanup restore([&] {
    if (!config.ok()) {
      return;
    }
    oci::Resources old;
    ApplyCriResources(config->linux().resources(), old);
    if (auto restored = runtime->Update(id, old); !restored.ok()) {
      log::Warn({.pod = record.sandbox_id, .ctr = id},
                "restore resources after a failed update: {}", restored.error().message());
    }
  });
  CR_FAILPOINT(kContainerUpdateAfterCgroup);
  // Remember them, so ContainerStatus and a later restart see what is in force.
  // A corrupt config is left as it is: the new limits are in force, but not remembered.
  if (config.ok()) {
    v1::ContainerConfig updated = *config;
    *updated.mutable_linux()->mutable_resources() = req.linux();
    CR_RETURN_IF_ERROR(EncodeConfig(updated, record));
    CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  }
  restore.Dismiss();
  log::Info({.pod = record.sandbox_id, .ctr = id}, "resources updated");
  return Ok();
}

}  // namespace cricket::cri
