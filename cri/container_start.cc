// StartContainer.

#include <signal.h>

#include <chrono>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

using namespace std::chrono_literals;

// A start that failed may still have started the container (its shim started it and then
// failed, died, or the record was not written): it is killed, so nothing runs that CRI shows
// as created. Through the shim, or through the runtime when the shim is gone.
void KillAfterFailedStart(const CriDeps& deps, const ContainerRecord& record,
                          const ContainerInfo& info) {
  auto shim = deps.shims->Connect(info.shim_dir);
  auto killed = shim->Kill(SIGKILL, /*all=*/true);
  if (killed.ok()) {
    (void)shim->Wait(10s);
    return;
  }
  if (killed.error().code() != Code::kUnavailable || !deps.cgroups.ok() || deps.sys == nullptr) {
    return;  // exited already, or nothing to reach it with
  }
  auto runtime = ContainerRuntimeFor(*deps.config, info.runtime_handler, *deps.sys, *deps.cgroups,
                                     info.shim_dir);
  if (runtime.ok()) {
    if (auto sent = (*runtime)->Kill(record.id, SIGKILL, /*all=*/true);
        !sent.ok() && sent.error().code() != Code::kNotFound &&
        sent.error().code() != Code::kFailedPrecondition) {
      log::Warn({.pod = record.sandbox_id, .ctr = record.id}, "kill after a failed start: {}",
                sent.error().message());
    }
  }
}

}  // namespace

Result<void> CriService::StartContainer(const v1::StartContainerRequest& req,
                                        v1::StartContainerResponse& /*resp*/) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  auto lock = locks_.Acquire(id);
  CR_ASSIGN_OR_RETURN(ContainerRecord record, deps_.store->GetContainer(id));
  if (record.state != ContainerState::kCreated) {
    return Error(Code::kFailedPrecondition, "container " + id + " is not in the created state");
  }
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  Cleanup kill([&] {
    KillAfterFailedStart(deps_, record, info);
    (void)RefreshContainer(record);  // an exit the shim recorded: the record shows it
  });
  CR_RETURN_IF_ERROR(deps_.shims->Connect(info.shim_dir)->Start());
  CR_FAILPOINT(kContainerStartAfterShimStart);
  record.state = ContainerState::kRunning;
  record.started_at_ns = NowUnixNanos();
  if (auto stored = deps_.store->PutContainer(record); !stored.ok()) {
    record.state = ContainerState::kCreated;
    return stored.error();
  }
  kill.Dismiss();
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
