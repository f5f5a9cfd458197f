#include "cri/startup_reconcile.h"

#include <filesystem>
#include <set>

#include "common/log.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

// What RunPodSandbox would have stored for `record`, from its id and config alone (the paths
// are all derived from the id; see sandbox_run.cc).
SandboxInfo RebuiltInfo(const SandboxRecord& record, const v1::PodSandboxConfig& config,
                        const CriDeps& deps) {
  SandboxInfo info;
  info.state_dir = deps.config->state + "/sandboxes/" + record.id;
  info.infra_shim_dir = deps.config->state + "/shims/" + record.id.substr(0, 16);
  info.host_network = config.linux().security_context().namespace_options().network() == v1::NODE;
  info.hostname = config.hostname();
  info.cgroup_parent = config.linux().cgroup_parent();
  info.log_directory = config.log_directory();
  if (!info.host_network && deps.network.ok()) {
    info.netns_path = (*deps.network)->NetnsPath(record.id);
  }
  // The handler the pod was asked for is lost; its infra runs under Cricket's own runtime
  // whatever it was, and the pod is NotReady: kubelet removes it and makes a new attempt.
  return info;
}

}  // namespace

void StartupReconcile::Run(CriService& service) {
  RepairRecords(service);
  StopHalfMadePods(service);
  RemoveOrphans(service);
  ThawFrozenContainers(service);
}

void StartupReconcile::RepairRecords(CriService& service) {
  const CriDeps& deps = service.deps_;
  auto records = deps.store->ListSandboxes();
  if (!records.ok()) {
    log::Warn({}, "sandbox reconcile: {}", records.error().message());
    return;
  }
  for (SandboxRecord& record : *records) {
    if (DecodeInfo(record).ok()) {
      continue;
    }
    auto config = DecodeConfig(record);
    if (!config.ok()) {
      log::Warn({.pod = record.id}, "sandbox record cannot be repaired: {}",
                config.error().message());
      continue;
    }
    EncodeInfo(RebuiltInfo(record, *config, deps), record);
    record.state = SandboxState::kNotReady;
    if (auto put = deps.store->PutSandbox(record); !put.ok()) {
      log::Warn({.pod = record.id}, "repair sandbox record: {}", put.error().message());
      continue;
    }
    log::Info({.pod = record.id},
              "repaired sandbox record {}: runtime state rebuilt from its id and config, "
              "NotReady",
              record.name);
  }
}

void StartupReconcile::StopHalfMadePods(CriService& service) {
  auto records = service.deps_.store->ListSandboxes();
  if (!records.ok()) {
    return;  // RepairRecords said why
  }
  for (const SandboxRecord& record : *records) {
    if (record.state != SandboxState::kNotReady) {
      continue;
    }
    auto info = DecodeInfo(record);
    if (!info.ok()) {
      continue;
    }
    // A RunPodSandbox cut short after its infra started: nothing may run for a NotReady pod.
    auto status = service.deps_.shims->Connect(info->infra_shim_dir)->Status();
    if (!status.ok() || status->state != "running") {
      continue;
    }
    auto lock = service.locks_.Acquire(record.id);
    if (auto stopped = service.StopSandboxLocked(record.id); !stopped.ok()) {
      log::Warn({.pod = record.id}, "stop half-made sandbox: {}", stopped.error().message());
      continue;
    }
    log::Info({.pod = record.id}, "stopped the infra of half-made sandbox {}", record.name);
  }
}

void StartupReconcile::RemoveOrphans(CriService& service) {
  const CriDeps& deps = service.deps_;
  auto records = deps.store->ListSandboxes();
  if (!records.ok()) {
    return;
  }
  std::set<std::string> known;
  for (const auto& record : *records) {
    known.insert(record.id);
  }
  // RunPodSandbox makes the state dir before the infra shim dir and RemovePodSandbox removes it
  // after, both while the record exists: an infra shim dir of a pod without a record comes with
  // its state dir, which names the pod.
  namespace fs = std::filesystem;
  const std::string sandboxes = deps.config->state + "/sandboxes";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(sandboxes, ec)) {
    const std::string id = entry.path().filename().string();
    if (known.contains(id)) {
      continue;
    }
    const std::string shim_dir = deps.config->state + "/shims/" + id.substr(0, 16);
    auto lock = service.locks_.Acquire(id);
    if (auto deleted = service.DeleteThroughShim(id, shim_dir, /*runtime_handler=*/"");
        !deleted.ok()) {
      log::Warn({.pod = id}, "orphaned sandbox infra: {}", deleted.error().message());
      continue;
    }
    std::error_code rm_ec;
    fs::remove_all(shim_dir, rm_ec);
    fs::remove_all(entry.path(), rm_ec);
    log::Info({.pod = id}, "removed orphaned sandbox infra, shim dir and state dir (no record)");
  }
}

void StartupReconcile::ThawFrozenContainers(CriService& service) {
  const CriDeps& deps = service.deps_;
  auto records = deps.store->ListContainers();
  if (!records.ok() || !deps.cgroups.ok() || deps.sys == nullptr) {
    return;
  }
  for (const ContainerRecord& record : *records) {
    if (record.state != ContainerState::kRunning) {
      continue;
    }
    auto info = DecodeInfo(record);
    if (!info.ok()) {
      continue;
    }
    auto runtime = ContainerRuntimeFor(*deps.config, info->runtime_handler, *deps.sys,
                                       *deps.cgroups, info->shim_dir);
    if (!runtime.ok()) {
      continue;
    }
    auto cgroup = (*runtime)->Cgroup(record.id);
    if (!cgroup.ok() || !(*cgroup)->Frozen().value_or(false)) {
      continue;
    }
    if (auto thawed = (*cgroup)->Freeze(false); !thawed.ok()) {
      log::Warn({.ctr = record.id}, "thaw container left frozen: {}", thawed.error().message());
      continue;
    }
    log::Info({.ctr = record.id},
              "thawed container {}: a checkpoint cut short had left it frozen", record.name);
  }
}

}  // namespace cricket::cri
