// StartContainer.

#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::StartContainer(const v1::StartContainerRequest& req,
                                        v1::StartContainerResponse& /*resp*/) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  auto lock = locks_.Acquire(id);
  CR_ASSIGN_OR_RETURN(ContainerRecord record, deps_.store->GetContainer(id));
  if (record.state != ContainerState::kCreated) {
    return Error(Code::kFailedPrecondition, "container " + id + " is not in the created state");
  }
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  CR_RETURN_IF_ERROR(deps_.shims->Connect(info.shim_dir)->Start());
  record.state = ContainerState::kRunning;
  record.started_at_ns = NowUnixNanos();
  CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  PublishContainerEvent(record, v1::CONTAINER_STARTED_EVENT);
  log::Info({.pod = record.sandbox_id, .ctr = id}, "container started");
  // It may have ended already (a status call saw it first): STOPPED goes out after STARTED.
  if (auto refreshed = RefreshContainer(record); !refreshed.ok()) {
    log::Warn({.pod = record.sandbox_id, .ctr = id}, "started, but its state was not read back: {}",
              refreshed.error().message());
  }
  return Ok();
}

}  // namespace cricket::cri
