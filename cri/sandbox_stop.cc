// StopPodSandbox and RemovePodSandbox: both idempotent, as CRI asks.

#include <filesystem>

#include "common/log.h"
#include "cri/service.h"
#include "shim/shim_client.h"

namespace cricket::cri {

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
  CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(*record));
  if (auto deleted = DeleteThroughShim(*id, info.infra_shim_dir, /*runtime_handler=*/""); !deleted.ok()) {
    return deleted.error().Wrap("delete sandbox infra");
  }
  std::error_code ec;
  std::filesystem::remove_all(info.infra_shim_dir, ec);
  std::filesystem::remove_all(info.state_dir, ec);
  CR_RETURN_IF_ERROR(deps_.store->DeleteSandbox(*id));
  log::Info({.pod = *id}, "sandbox removed");
  return Ok();
}

}  // namespace cricket::cri
