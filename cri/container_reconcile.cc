// Start-up reconcile of containers (see container_reconcile.h).

#include "cri/container_reconcile.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "cri/decoded_records.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "shim/exit_record.h"

namespace cricket::cri {
namespace {

using namespace std::chrono_literals;

// The shim dir name of an id (cri/container_create.cc, cri/sandbox_run.cc).
std::string ShimDirName(const std::string& id) { return id.substr(0, 16); }

class Reconciler {
 public:
  Reconciler(CriService& service, const ContainerReconcileDeps& deps)
      : service_(service), deps_(deps) {}

  Result<std::vector<std::string>> Run() {
    CR_ASSIGN_OR_RETURN(auto sandboxes, deps_.store->ListSandboxes());
    for (const auto& s : sandboxes) {
      sandbox_ids_.insert(s.id);
    }
    CR_ASSIGN_OR_RETURN(auto containers, deps_.store->ListContainers());
    for (ContainerRecord& c : containers) {
      Record(std::move(c));
    }
    // What is left of the records names everything that is not an orphan.
    CR_ASSIGN_OR_RETURN(containers, deps_.store->ListContainers());
    std::set<std::string> ids = sandbox_ids_;
    for (const auto& c : containers) {
      ids.insert(c.id);
      container_ids_.insert(c.id);
    }
    for (const auto& id : ids) {
      known_shim_dirs_.insert(ShimDirName(id));
    }
    OrphanShimDirs();
    OrphanRuntimeState(ids);
    OrphanBundles();
    return std::move(repairs_);
  }

 private:
  void Repaired(const std::string& ctr, const std::string& what) {
    log::Info({.ctr = ctr}, "reconcile: {}", what);
    repairs_.push_back(ctr.empty() ? what : ctr + ": " + what);
  }
  void Failed(const std::string& ctr, const std::string& what, const Error& error) {
    log::Warn({.ctr = ctr}, "reconcile: {}: {}", what, error.message());
  }

  void Remove(const std::string& id, const std::string& why) {
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    if (auto removed = service_.RemoveContainer(req, resp); !removed.ok()) {
      Failed(id, "remove (" + why + ")", removed.error());
      return;
    }
    Repaired(id, "removed: " + why);
  }

  // ContainerStatus brings the record up to date with an exit record its shim left.
  void RecordExit(const std::string& id, const shim::ExitRecord& exit) {
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    if (auto status = service_.ContainerStatus(req, resp); !status.ok()) {
      Failed(id, "record its exit", status.error());
      return;
    }
    Repaired(id,
             "its shim is gone; recorded its exit (code " + std::to_string(exit.exit_code) + ")");
  }

  // A running container nothing monitors: killed through the runtime, recorded as exited.
  void KillUnmonitored(ContainerRecord record, const ContainerInfo& info) {
    if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
      return;  // RemoveContainer deletes it through the runtime later
    }
    auto runtime = ContainerRuntimeFor(*deps_.config, info.runtime_handler, *deps_.sys,
                                       *deps_.cgroups, info.shim_dir);
    if (!runtime.ok()) {
      Failed(record.id, "kill without its shim", runtime.error());
      return;
    }
    // Not found or not running: it ended already (its shim died after reaping it).
    if (auto killed = (*runtime)->Kill(record.id, SIGKILL, /*all=*/true);
        !killed.ok() && killed.error().code() != Code::kNotFound &&
        killed.error().code() != Code::kFailedPrecondition) {
      Failed(record.id, "kill without its shim", killed.error());
      return;
    }
    record.state = ContainerState::kExited;
    record.exit_code = 128 + SIGKILL;
    record.finished_at_ns = NowUnixNanos();
    record.reason = "Error";
    record.message = "its shim was gone when cricketd started; the container was killed";
    if (auto stored = deps_.store->PutContainer(record); !stored.ok()) {
      Failed(record.id, "record its end", stored.error());
      return;
    }
    Repaired(record.id, "its shim was gone; killed it and recorded it as exited");
  }

  void Record(ContainerRecord record) {
    const std::string id = record.id;
    auto info = DecodeInfo(record);
    if (!info.ok()) {
      Failed(id, "read its record", info.error());  // DATA_LOSS for every RPC: not guessed at
      return;
    }
    if (record.state != ContainerState::kCreated && record.state != ContainerState::kRunning) {
      std::error_code ec;
      if (!std::filesystem::exists(info->bundle, ec)) {
        Remove(id, "a remove was cut short");
      }
      return;
    }
    auto status = deps_.shims->Connect(info->shim_dir)->Status();
    if (status.ok()) {
      if (record.state == ContainerState::kCreated && status->state == "running") {
        record.state = ContainerState::kRunning;
        record.started_at_ns = status->started_at_ns > 0 ? status->started_at_ns : NowUnixNanos();
        if (auto stored = deps_.store->PutContainer(record); !stored.ok()) {
          Failed(id, "record its start", stored.error());
          return;
        }
        Repaired(id, "its start was cut short after the shim started it; recorded as running");
      }
      return;  // an exit its shim reports is recorded by the next status call
    }
    if (status.error().code() != Code::kUnavailable) {
      Failed(id, "ask its shim", status.error());  // alive but slow: not ours to judge
      return;
    }
    if (auto exit = shim::ReadExitRecord(info->shim_dir); exit.ok()) {
      RecordExit(id, *exit);
    } else if (record.state == ContainerState::kCreated) {
      Remove(id, "half-made, no shim holds it");
    } else {
      KillUnmonitored(std::move(record), *info);
    }
  }

  // Shim dirs of no record. A shim still running kills and deletes its container first.
  void OrphanShimDirs() {
    const std::string root = deps_.config->state + "/shims";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory(ec) || known_shim_dirs_.contains(name)) {
        continue;
      }
      const std::string dir = entry.path().string();
      auto shim = deps_.shims->Connect(dir);
      if (shim->Status().ok()) {
        if (shim->Kill(SIGKILL, /*all=*/true).ok()) {
          (void)shim->Wait(10s);
        }
        if (auto deleted = shim->Delete(/*force=*/true); !deleted.ok()) {
          Failed("", "delete through the orphan shim " + dir, deleted.error());
          continue;
        }
      }
      std::filesystem::remove_all(dir, ec);
      Repaired("", "removed the orphan shim dir " + dir);
    }
  }

  // Containers in Cricket's own runtime root that no record names (their shim is gone).
  void OrphanRuntimeState(const std::set<std::string>& ids) {
    if (!deps_.cgroups.ok() || deps_.sys == nullptr) {
      return;
    }
    auto target = RuntimeFor(*deps_.config, "");
    if (!target.ok()) {
      return;
    }
    std::error_code ec;
    std::vector<std::string> orphans;
    for (const auto& entry : std::filesystem::directory_iterator(target->root, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory(ec) && !ids.contains(name)) {
        orphans.push_back(name);
      }
    }
    if (orphans.empty()) {
      return;
    }
    auto runtime = ContainerRuntimeFor(*deps_.config, "", *deps_.sys, *deps_.cgroups,
                                       deps_.config->state + "/shims");
    if (!runtime.ok()) {
      return;
    }
    for (const auto& id : orphans) {
      if (auto deleted = (*runtime)->Delete(id, /*force=*/true);
          !deleted.ok() && deleted.error().code() != Code::kNotFound) {
        Failed(id, "delete the orphan container from the runtime", deleted.error());
        continue;
      }
      Repaired(id, "deleted the orphan container from the runtime");
    }
  }

  // Bundles of no record: the rootfs unmounted, its snapshot and the dir removed.
  void OrphanBundles() {
    const std::string root = deps_.config->state + "/containers";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      const std::string id = entry.path().filename().string();
      if (!entry.is_directory(ec) || container_ids_.contains(id)) {
        continue;
      }
      const std::string dir = entry.path().string();
      auto gone = deps_.rootfs->Unmount(dir + "/rootfs");
      if (gone.ok()) {
        gone = deps_.rootfs->Remove(id);
      }
      if (!gone.ok()) {
        Failed(id, "remove the orphan bundle " + dir, gone.error());
        continue;
      }
      std::filesystem::remove_all(dir, ec);
      Repaired(id, "removed the orphan bundle and its snapshot");
    }
  }

  CriService& service_;
  const ContainerReconcileDeps& deps_;
  std::set<std::string> sandbox_ids_;
  std::set<std::string> container_ids_;
  std::set<std::string> known_shim_dirs_;
  std::vector<std::string> repairs_;
};

}  // namespace

Result<std::vector<std::string>> ReconcileContainers(CriService& service,
                                                     const ContainerReconcileDeps& deps) {
  return Reconciler(service, deps).Run();
}

}  // namespace cricket::cri
