// StopContainer and RemoveContainer: idempotent for unknown ids, as CRI asks.

#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::StopContainer(const v1::StopContainerRequest& req,
                                       v1::StopContainerResponse& /*resp*/) {
  auto id = ResolveContainer(req.container_id());
  if (!id.ok()) {
    return id.error().code() == Code::kNotFound ? Ok() : Result<void>(id.error());
  }
  auto lock = locks_.Acquire(*id);
  return StopContainerLocked(*id, req.timeout());
}

Result<void> CriService::RemoveContainer(const v1::RemoveContainerRequest& req,
                                         v1::RemoveContainerResponse& /*resp*/) {
  auto id = ResolveContainer(req.container_id());
  if (!id.ok()) {
    return id.error().code() == Code::kNotFound ? Ok() : Result<void>(id.error());
  }
  auto lock = locks_.Acquire(*id);
  return RemoveContainerLocked(*id);
}

}  // namespace cricket::cri
