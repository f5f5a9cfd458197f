// GetContainerEvents' side of the service: the events the lifecycle publishes, each with the
// pod's status and its containers' statuses (what kubelet's evented PLEG reads), and the exit
// watcher that turns a container ending on its own into a STOPPED event.

#include "common/clock.h"
#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

std::shared_ptr<EventBroker::Subscription> CriService::SubscribeContainerEvents() {
  return events_.Subscribe();
}

void CriService::CloseContainerEvents() { events_.Close(); }

void CriService::PublishContainerEvent(const ContainerRecord& record,
                                       v1::ContainerEventType type) {
  v1::ContainerEventResponse event;
  event.set_container_id(record.id);
  event.set_container_event_type(type);
  event.set_created_at(NowUnixNanos());
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(record.sandbox_id);
  v1::PodSandboxStatusResponse pod;
  if (PodSandboxStatus(req, pod).ok()) {
    *event.mutable_pod_sandbox_status() = pod.status();
  }
  // The statuses as recorded: asking every shim again here would make one event cost a round
  // trip per container of the pod.
  if (auto records = deps_.store->ListContainers(); records.ok()) {
    for (const auto& other : *records) {
      if (other.sandbox_id != record.sandbox_id) {
        continue;
      }
      const ContainerRecord& current = other.id == record.id ? record : other;
      if (!FillContainerStatus(current, *event.add_containers_statuses()).ok()) {
        event.mutable_containers_statuses()->RemoveLast();
      }
    }
  }
  events_.Publish(event);
}

void CriService::OnContainerExit(const std::string& id) {
  // The container's lock orders this after a StartContainer still recording the start, so
  // STOPPED never precedes STARTED.
  auto lock = locks_.Acquire(id);
  auto stored = deps_.store->GetContainer(id);
  if (!stored.ok()) {
    return;  // removed meanwhile
  }
  if (auto refreshed = RefreshContainer(*stored); !refreshed.ok()) {
    log::Warn({.ctr = id}, "container exited, but its record was not updated: {}",
              refreshed.error().message());
  }
}

Result<void> CriService::WatchContainerExits() {
  if (!exit_watcher_) {
    CR_ASSIGN_OR_RETURN(exit_watcher_,
                        ExitWatcher::Start([this](const std::string& id) { OnContainerExit(id); }));
  }
  CR_ASSIGN_OR_RETURN(auto records, deps_.store->ListContainers());
  for (const auto& record : records) {
    if (record.state != ContainerState::kRunning && record.state != ContainerState::kCreated) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
    if (auto watched = exit_watcher_->Watch(record.id, info.shim_dir); !watched.ok()) {
      // Its shim dir is gone: the next status call finds out what became of it.
      log::Warn({.pod = record.sandbox_id, .ctr = record.id}, "cannot watch for its exit: {}",
                watched.error().message());
    }
  }
  return Ok();
}

}  // namespace cricket::cri
