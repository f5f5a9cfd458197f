// UpdatePodSandboxResources: in-place pod resize (KEP-1287). The pod-level limits go to the
// pod's own cgroup (kubelet's cgroup_parent; under the systemd driver its slice, whose unit
// properties are set too, or systemd would put its own values back), and into the pod's stored
// config, which PodSandboxStatus shows (verbose info) and a restart keeps.
//
// CRI-O and containerd answer NOT_FOUND for an unknown pod as we do; neither checks the pod's
// state (they only record the values and tell NRI). A stopped pod's cgroup is on its way out
// (its infra and containers are gone), so here it is FAILED_PRECONDITION, like
// UpdateContainerResources on a stopped container.

#include "common/cleanup.h"
#include "common/log.h"
#include "cri/container_spec.h"
#include "cri/sandbox_resources.h"
#include "cri/service.h"
#include "cri/systemd_scopes.h"
#include "oci/cgroup_manager.h"
#include "oci/cgroup_systemd.h"

namespace cricket::cri {
namespace {

// The limits in force before this update, when the pod had pod-level resources: what a failed
// update puts back. nullopt: none were set (the cgroup had whatever its creator gave it).
std::optional<oci::Resources> PreviousLimits(const v1::PodSandboxConfig& config) {
  const auto& linux = config.linux();
  if (!linux.has_overhead() && !linux.has_resources()) {
    return std::nullopt;
  }
  auto old = PodCgroupResources(linux.overhead(), linux.resources());
  return old.ok() ? std::optional(*old) : std::nullopt;
}

}  // namespace

Result<void> CriService::UpdatePodSandboxResources(
    const v1::UpdatePodSandboxResourcesRequest& req,
    v1::UpdatePodSandboxResourcesResponse& /*resp*/) {
  if (req.pod_sandbox_id().empty()) {
    return Error(Code::kInvalidArgument, "pod_sandbox_id is empty");
  }
  CR_ASSIGN_OR_RETURN(oci::Resources limits, PodCgroupResources(req.overhead(), req.resources()));
  CR_ASSIGN_OR_RETURN(std::string id, ResolveSandbox(req.pod_sandbox_id()));
  auto lock = locks_.Acquire(id);
  CR_ASSIGN_OR_RETURN(Sandbox pod, LoadSandbox(*deps_.store, id));
  if (pod.record.state != SandboxState::kReady) {
    return Error(Code::kFailedPrecondition,
                 "pod sandbox " + id + " is stopped: no cgroup to resize");
  }
  // Without a parent of its own the pod shares cricketd's default cgroup (or slice) with other
  // pods: its limits would bind them all.
  if (pod.config.linux().cgroup_parent().empty()) {
    return Error(Code::kFailedPrecondition,
                 "pod sandbox " + id +
                     " has no cgroup of its own (linux.cgroup_parent was empty at RunPodSandbox)");
  }
  if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
    return Error(Code::kFailedPrecondition, "no cgroup hierarchy to update");
  }
  const std::string& parent = pod.info.cgroup_parent;
  const bool slice = deps_.scopes != nullptr && oci::ExpandSlice(parent).ok();
  auto cgroup = oci::NewCgroupManager(*deps_.sys, *deps_.cgroups, CgroupParentPath(parent));
  const log::Fields fields{.pod = id};

  // A failure puts the previous limits back: a failed update changes nothing it can undo.
  Cleanup restore([&, old = PreviousLimits(pod.config)] {
    if (!old) {
      return;
    }
    if (slice) {
      (void)deps_.scopes->UpdateSlice(parent, *old);
    }
    if (auto restored = cgroup->Update(*old); !restored.ok()) {
      log::Warn(fields, "restore pod resources after a failed update: {}",
                restored.error().message());
    }
  });
  if (slice) {
    CR_RETURN_IF_ERROR(deps_.scopes->UpdateSlice(parent, limits));
  }
  if (auto updated = cgroup->Update(limits); !updated.ok()) {
    return updated.error().Wrap("pod cgroup " + CgroupParentPath(parent));
  }
  v1::PodSandboxConfig config = pod.config;
  *config.mutable_linux()->mutable_overhead() = req.overhead();
  *config.mutable_linux()->mutable_resources() = req.resources();
  CR_RETURN_IF_ERROR(EncodeConfig(config, pod.record));
  CR_RETURN_IF_ERROR(deps_.store->PutSandbox(pod.record));
  restore.Dismiss();
  log::Info(fields, "pod resources updated");
  return Ok();
}

}  // namespace cricket::cri
