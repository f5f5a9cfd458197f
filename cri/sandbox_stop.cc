// StopPodSandbox and RemovePodSandbox: both idempotent, as CRI asks.

#include <signal.h>

#include <chrono>
#include <filesystem>

#include "common/failpoint.h"
#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::StopSandboxLocked(const std::string& id) {
  CR_ASSIGN_OR_RETURN(SandboxRecord record, deps_.store->GetSandbox(id));
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  for (const auto& c : containers) {
    if (c.sandbox_id == id) {
      auto lock = locks_.Acquire(c.id);
      CR_RETURN_IF_ERROR(StopContainerLocked(c.id, 0));
    }
  }
  // Every container of the pod is stopped: the pod's volumes get their final snapshot and are
  // released (a volume also used by another pod's running container stays attached for it).
  if (deps_.volumes != nullptr) {
    CR_RETURN_IF_ERROR(deps_.volumes->DetachPod(id));
  }
  CR_FAILPOINT(kSandboxStopAfterContainers);
  CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(record));
  // NotReady is stored before the infra dies and the network goes: a crash or error in between
  // leaves a NotReady pod whose Stop is done again, never a READY pod without its infra (the
  // crash matrix found that). A NotReady pod whose infra still runs is stopped at start-up.
  const bool was_ready = record.state != SandboxState::kNotReady;
  if (was_ready) {
    record.state = SandboxState::kNotReady;
    CR_RETURN_IF_ERROR(deps_.store->PutSandbox(record));
  }
  // A pod cut short by a crash may have no shim yet (or no longer): nothing to kill then.
  auto infra = deps_.shims->Connect(info.infra_shim_dir);
  if (infra->Kill(SIGKILL, /*all=*/true).ok()) {
    (void)infra->Wait(std::chrono::seconds(30));
  }
  CR_FAILPOINT(kSandboxStopAfterInfraKill);
  if (!info.host_network && deps_.network.ok()) {
    // Idempotent: a namespace, veth, lease or rule never made (or already gone) is skipped.
    network::PodNetworkConfig net;
    net.sandbox_id = id;
    CR_RETURN_IF_ERROR((*deps_.network)->TeardownPod(net));
  }
  CR_FAILPOINT(kSandboxStopAfterNetwork);
  if (was_ready) {
    log::Info({.pod = id}, "sandbox stopped");
  }
  return Ok();
}

Result<void> CriService::StopPodSandbox(const v1::StopPodSandboxRequest& req,
                                        v1::StopPodSandboxResponse& /*resp*/) {
  auto id = ResolveSandbox(req.pod_sandbox_id());
  if (!id.ok()) {
    // CRI: stopping an unknown sandbox is OK.
    return id.error().code() == Code::kNotFound ? Ok() : Result<void>(id.error());
  }
  auto lock = locks_.Acquire(*id);
  return StopSandboxLocked(*id);
}

Result<void> CriService::RemovePodSandbox(const v1::RemovePodSandboxRequest& req,
                                          v1::RemovePodSandboxResponse& /*resp*/) {
  auto id = ResolveSandbox(req.pod_sandbox_id());
  if (!id.ok()) {
    return id.error().code() == Code::kNotFound ? Ok() : Result<void>(id.error());
  }
  auto lock = locks_.Acquire(*id);
  auto record = deps_.store->GetSandbox(*id);
  if (!record.ok()) {
    return record.error().code() == Code::kNotFound ? Ok() : Result<void>(record.error());
  }
  CR_RETURN_IF_ERROR(StopSandboxLocked(*id));
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  for (const auto& c : containers) {
    if (c.sandbox_id == *id) {
      auto ctr_lock = locks_.Acquire(c.id);
      CR_RETURN_IF_ERROR(RemoveContainerLocked(c.id));
    }
  }
  CR_FAILPOINT(kSandboxRemoveAfterStop);
  CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(*record));
  // The infra is always Cricket's own runtime's. Neither shim nor runtime state knowing it (a
  // pod cut short before its shim ran) is OK.
  if (auto deleted = DeleteThroughShim(*id, info.infra_shim_dir, /*runtime_handler=*/"");
      !deleted.ok()) {
    return deleted.error().Wrap("delete sandbox infra");
  }
  CR_FAILPOINT(kSandboxRemoveAfterInfraDelete);
  // The record goes last: a crash before leaves a pod whose removal is done again.
  std::error_code ec;
  std::filesystem::remove_all(info.infra_shim_dir, ec);
  std::filesystem::remove_all(info.state_dir, ec);
  CR_FAILPOINT(kSandboxRemoveAfterDirs);
  CR_RETURN_IF_ERROR(deps_.store->DeleteSandbox(*id));
  log::Info({.pod = *id}, "sandbox removed");
  return Ok();
}

}  // namespace cricket::cri
