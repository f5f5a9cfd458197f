// Steps shared by the sandbox and container RPCs: id resolution, syncing a record with its
// shim, stopping and removing.

#include <signal.h>

#include <chrono>
#include <filesystem>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "cri/ids.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "shim/exit_record.h"

namespace cricket::cri {
namespace {

using namespace std::chrono_literals;

void MarkExited(ContainerRecord& record, const shim::ExitRecord& exit) {
  record.state = ContainerState::kExited;
  record.exit_code = exit.exit_code;
  record.finished_at_ns = exit.finished_at_ns;
  if (record.started_at_ns == 0) {
    record.started_at_ns = exit.started_at_ns;
  }
  // Kubernetes' reasons: OOMKilled, Completed, Error.
  record.reason = exit.oom_killed ? "OOMKilled" : exit.exit_code == 0 ? "Completed" : "Error";
}

}  // namespace

Result<std::string> CriService::ResolveSandbox(const std::string& id_or_prefix) {
  CR_ASSIGN_OR_RETURN(auto sandboxes, deps_.store->ListSandboxes());
  std::vector<std::string> ids;
  for (const auto& s : sandboxes) {
    ids.push_back(s.id);
  }
  return ResolveId(ids, id_or_prefix, "sandbox");
}

Result<std::string> CriService::ResolveContainer(const std::string& id_or_prefix) {
  CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
  std::vector<std::string> ids;
  for (const auto& c : containers) {
    ids.push_back(c.id);
  }
  return ResolveId(ids, id_or_prefix, "container");
}

Result<ContainerRecord> CriService::RefreshContainer(ContainerRecord record) {
  if (record.state != ContainerState::kRunning && record.state != ContainerState::kCreated) {
    return record;
  }
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  auto status = deps_.shims->Connect(info.shim_dir)->Status();
  std::optional<shim::ExitRecord> exit;
  if (status.ok()) {
    exit = status->exit;
  } else if (auto recorded = shim::ReadExitRecord(info.shim_dir); recorded.ok()) {
    exit = *recorded;  // the shim is gone, but it wrote down how the container ended
  } else if (record.state == ContainerState::kRunning) {
    record.state = ContainerState::kUnknown;
    record.reason = "Unknown";
    record.message = "the container's shim is gone: " + status.error().message();
    CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
    return record;
  }
  if (exit) {
    const bool was_running = record.state == ContainerState::kRunning;
    MarkExited(record, *exit);
    CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
    // A container still recorded as created is being started: StartContainer refreshes it
    // after sending STARTED, so the events keep their order.
    if (was_running) {
      bool first;
      {
        std::lock_guard lock(stopped_mu_);
        first = stopped_published_.insert(record.id).second;
      }
      if (first) {
        PublishContainerEvent(record, v1::CONTAINER_STOPPED_EVENT);
      }
    }
  }
  return record;
}

Result<std::pair<ContainerRecord, ContainerInfo>> CriService::RunningContainer(
    const std::string& id_or_prefix) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(id_or_prefix));
  CR_ASSIGN_OR_RETURN(ContainerRecord stored, deps_.store->GetContainer(id));
  CR_ASSIGN_OR_RETURN(ContainerRecord record, RefreshContainer(stored));
  if (record.state != ContainerState::kRunning) {
    return Error(Code::kFailedPrecondition, "container " + id + " is not running");
  }
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  return std::pair{std::move(record), std::move(info)};
}

Result<void> CriService::StopContainerLocked(const std::string& id, int64_t timeout_s) {
  auto found = deps_.store->GetContainer(id);
  if (!found.ok()) {
    return found.error().code() == Code::kNotFound ? Ok() : Result<void>(found.error());
  }
  CR_ASSIGN_OR_RETURN(ContainerRecord record, RefreshContainer(*found));
  if (record.state != ContainerState::kRunning) {
    return Ok();  // CRI: stopping a stopped (or never started) container is OK
  }
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  CR_FAILPOINT(kContainerStopBeforeKill);
  // Once it stopped, its portable volumes are published: exact when it was their only writer.
  // The lease stays until the last container using a volume is removed or its pod stopped.
  Cleanup publish([&] {
    if (deps_.volumes == nullptr) {
      return;
    }
    if (auto published = deps_.volumes->SnapshotContainer(id); !published.ok()) {
      log::Warn({.pod = record.sandbox_id, .ctr = id}, "snapshot volumes after stop: {}",
                published.error().message());
    }
  });
  auto shim = deps_.shims->Connect(info.shim_dir);
  if (timeout_s > 0) {
    int signal = info.stop_signal > 0 ? info.stop_signal : SIGTERM;
    auto sent = shim->Kill(signal, /*all=*/false);
    if (sent.ok() && shim->Wait(std::chrono::seconds(timeout_s)).ok()) {
      CR_FAILPOINT(kContainerStopAfterKill);
      CR_RETURN_IF_ERROR(RefreshContainer(record));
      return Ok();
    }
  }
  // Grace period over (or none): kill everything in the container's cgroup.
  auto killed = shim->Kill(SIGKILL, /*all=*/true);
  if (!killed.ok() && killed.error().code() != Code::kFailedPrecondition) {
    return killed.error().Wrap("kill container " + id);
  }
  CR_RETURN_IF_ERROR(shim->Wait(30s));
  CR_FAILPOINT(kContainerStopAfterKill);
  CR_RETURN_IF_ERROR(RefreshContainer(record));
  return Ok();
}

Result<void> CriService::DeleteThroughShim(const std::string& id, const std::string& shim_dir,
                                           const std::string& runtime_handler) {
  auto deleted = deps_.shims->Connect(shim_dir)->Delete(/*force=*/true);
  if (deleted.ok() || deleted.error().code() != Code::kUnavailable) {
    return deleted;
  }
  // The shim is gone (killed, or crashed): its container may still run, orphaned. The runtime's
  // own state still knows its init and cgroup, so delete it from here.
  if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
    return deps_.cgroups.ok() ? Result<void>(Ok()) : Result<void>(deps_.cgroups.error());
  }
  CR_ASSIGN_OR_RETURN(auto runtime, ContainerRuntimeFor(*deps_.config, runtime_handler, *deps_.sys,
                                                        *deps_.cgroups, shim_dir));
  auto removed = runtime->Delete(id, /*force=*/true);
  if (!removed.ok()) {
    // Unknown to the runtime too: nothing was left (a shim that failed before creating).
    return removed.error().code() == Code::kNotFound ? Result<void>(Ok())
                                                     : removed.error().Wrap("without its shim");
  }
  log::Warn({.ctr = id}, "its shim was gone ({}); deleted through the runtime",
            deleted.error().message());
  return Ok();
}

Result<void> CriService::RemoveContainerLocked(const std::string& id) {
  auto found = deps_.store->GetContainer(id);
  if (!found.ok()) {
    return found.error().code() == Code::kNotFound ? Ok() : Result<void>(found.error());
  }
  // Each step is repeatable: a remove that failed or was cut short by a crash is finished by
  // the next RemoveContainer (kubelet retries; start-up reconcile repeats it for half-removed
  // containers). The record goes last, so it is there to repeat from.
  CR_RETURN_IF_ERROR(StopContainerLocked(id, 0));
  CR_FAILPOINT(kContainerRemoveAfterStop);
  // The last container of a volume: final snapshot, fenced publish, lease released. A failure
  // keeps the container, so kubelet's retry repeats the detach.
  if (deps_.volumes != nullptr) {
    CR_RETURN_IF_ERROR(deps_.volumes->DetachContainer(id, /*publish=*/true));
  }
  CR_FAILPOINT(kContainerRemoveAfterDetach);
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(*found));
  if (auto deleted = DeleteThroughShim(id, info.shim_dir, info.runtime_handler); !deleted.ok()) {
    return deleted.error().Wrap("delete container " + id);
  }
  CR_FAILPOINT(kContainerRemoveAfterDelete);
  CR_RETURN_IF_ERROR(deps_.rootfs->Unmount(info.bundle + "/rootfs"));
  CR_FAILPOINT(kContainerRemoveAfterUnmount);
  CR_RETURN_IF_ERROR(deps_.rootfs->Remove(id));
  std::error_code ec;
  std::filesystem::remove_all(info.bundle, ec);
  std::filesystem::remove_all(info.shim_dir, ec);
  CR_FAILPOINT(kContainerRemoveBeforeRecord);
  CR_RETURN_IF_ERROR(deps_.store->DeleteContainer(id));
  if (exit_watcher_) {
    exit_watcher_->Forget(id);
  }
  {
    std::lock_guard lock(stopped_mu_);
    stopped_published_.erase(id);
  }
  PublishContainerEvent(*found, v1::CONTAINER_DELETED_EVENT);
  log::Info({.pod = found->sandbox_id, .ctr = id}, "container removed");
  return Ok();
}

}  // namespace cricket::cri
