#include "storage/volumes/volume_manager.h"

#include <filesystem>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "storage/volumes/snapshots/dir_snapshot_store.h"
#include "storage/volumes/snapshots/volume_restore.h"
#include "storage/volumes/volume_manager_internal.h"

namespace cricket::storage {
namespace {

bool FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

VolumeManager::VolumeManager(VolumeManagerOptions options,
                             std::unique_ptr<VolumeCoordinator> coordinator)
    : options_(std::move(options)),
      coordinator_(std::move(coordinator)),
      http_(options_.fetch_binary) {}

Result<std::unique_ptr<VolumeManager>> VolumeManager::Open(VolumeManagerOptions options) {
  if (options.root.empty() || options.root.front() != '/') {
    return Error(Code::kInvalidArgument, "volumes: root must be an absolute path");
  }
  if (auto valid = ValidateNodeName(options.node); !valid.ok()) {
    return valid.error().Wrap("volumes.node_name");
  }
  if (options.store != "dir" && options.store != "oci") {
    return Error(Code::kInvalidArgument,
                 "volumes.snapshot_store: expected dir or oci, got \"" + options.store + "\"");
  }
  if (options.store == "oci" && options.snapshot_repository.empty()) {
    return Error(Code::kInvalidArgument,
                 "volumes.snapshot_repository: required with snapshot_store = \"oci\"");
  }
  if (options.snapshot_interval.count() <= 0) {
    return Error(Code::kInvalidArgument, "volumes.snapshot_interval_seconds: must be positive");
  }
  if (options.coordination.local_dir.empty()) {
    options.coordination.local_dir = options.root + "/coordination";
  }
  if (options.snapshot_dir.empty()) {
    options.snapshot_dir = options.root + "/store";
  }
  for (const char* sub : {"/data", "/state", "/cache", "/attachments", "/copies"}) {
    CR_RETURN_IF_ERROR(MakeDirs(options.root + sub, 0700));
  }
  auto coordinator = MakeCoordinator(options.coordination);
  if (!coordinator.ok()) {
    return coordinator.error().Wrap("volumes.coordination");
  }
  std::unique_ptr<VolumeManager> manager(
      new VolumeManager(std::move(options), std::move(coordinator).value()));
  CR_RETURN_IF_ERROR(manager->Resume());
  manager->snapshot_thread_ = std::thread([m = manager.get()] { m->SnapshotLoop(); });
  return manager;
}

VolumeManager::~VolumeManager() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (snapshot_thread_.joinable()) {
    snapshot_thread_.join();
  }
  std::map<std::string, std::shared_ptr<Attachment>> all;
  {
    std::lock_guard lock(mu_);
    all = attachments_;
  }
  for (auto& [volume, a] : all) {
    auto op = OpLock(volume);
    std::lock_guard op_lock(*op);
    a->keeper.reset();  // the lease stays: the next Open resumes it
  }
}

std::string VolumeManager::DataPath(const std::string& volume) const {
  return options_.root + "/data/" + volume;
}
std::string VolumeManager::AttachmentPath(const std::string& volume) const {
  return options_.root + "/attachments/" + volume + ".json";
}
std::string VolumeManager::ReleasingPath(const std::string& volume) const {
  return options_.root + "/attachments/" + volume + ".releasing";
}
std::string VolumeManager::CopyPath(const std::string& volume) const {
  return options_.root + "/copies/" + volume + ".json";
}
std::string VolumeManager::StateDir(const std::string& volume) const {
  return options_.root + "/state/" + volume;
}
std::string VolumeManager::CacheDir() const { return options_.root + "/cache"; }

std::shared_ptr<std::mutex> VolumeManager::OpLock(const std::string& volume) {
  std::lock_guard lock(mu_);
  auto& op = volume_locks_[volume];
  if (!op) {
    op = std::make_shared<std::mutex>();
  }
  return op;
}

std::shared_ptr<VolumeManager::Attachment> VolumeManager::Find(const std::string& volume) const {
  std::lock_guard lock(mu_);
  auto it = attachments_.find(volume);
  return it == attachments_.end() ? nullptr : it->second;
}

Result<std::unique_ptr<volumes::SnapshotStore>> VolumeManager::OpenStore(
    const std::string& volume) {
  if (options_.store == "oci") {
    CR_ASSIGN_OR_RETURN(
        auto store, volumes::OciSnapshotStore::Create(options_.snapshot_repository + "/" + volume,
                                                      http_, options_.oci));
    return std::unique_ptr<volumes::SnapshotStore>(std::move(store));
  }
  CR_ASSIGN_OR_RETURN(auto store, volumes::DirSnapshotStore::Open(options_.snapshot_dir));
  return std::unique_ptr<volumes::SnapshotStore>(std::move(store));
}

Result<void> VolumeManager::PersistLocked(const Attachment& a) {
  return WriteFileAtomic(AttachmentPath(a.record.lease.volume), AttachmentToJson(a.record), 0600);
}

Result<void> VolumeManager::WriteCopy(const std::string& volume, const CopyRecord& copy) {
  return WriteFileAtomic(CopyPath(volume), CopyToJson(copy), 0600);
}

void VolumeManager::MarkStale(Attachment& a, const std::string& reason) {
  std::lock_guard lock(a.mu);
  if (a.record.stale || a.dropped) {
    return;
  }
  a.record.stale = true;
  a.record.stale_reason = reason;
  log::Warn({}, "volume {}: local copy is stale and will not be published again: {}",
            a.record.lease.volume, reason);
  if (auto saved = PersistLocked(a); !saved.ok()) {
    log::Warn({}, "volume {}: {}", a.record.lease.volume, saved.error().message());
  }
}

void VolumeManager::StartKeeper(const std::shared_ptr<Attachment>& a) {
  VolumeLease lease;
  {
    std::lock_guard lock(a->mu);
    lease = a->record.lease;
  }
  std::weak_ptr<Attachment> weak = a;
  a->keeper = LeaseKeeper::Start(*coordinator_, lease,
                                 [this, weak](const Error& error) {
                                   if (auto held = weak.lock()) {
                                     MarkStale(*held, "lease lost: " + error.message());
                                   }
                                 },
                                 {.interval = options_.keepalive_interval});
}

Result<void> VolumeManager::Resume() {
  CR_ASSIGN_OR_RETURN(auto names, ListDirectory(options_.root + "/attachments"));
  for (const auto& name : names) {
    if (!name.ends_with(".json")) {
      continue;
    }
    const std::string path = options_.root + "/attachments/" + name;
    CR_ASSIGN_OR_RETURN(AttachmentRecord record,
                        LoadAttachmentRecord(path, name.substr(0, name.size() - 5)));
    const std::string volume = record.lease.volume;
    // A stale record (lease lost, or rebuilt from a corrupt file) is not ours to release.
    if (!record.stale && (record.users.empty() || FileExists(ReleasingPath(volume)))) {
      FinishInterruptedRelease(record);
      continue;
    }
    auto a = std::make_shared<Attachment>(std::move(record));
    a->next_snapshot = std::chrono::steady_clock::now() + options_.snapshot_interval;
    {
      std::lock_guard lock(mu_);
      attachments_[volume] = a;
    }
    if (a->record.stale) {
      continue;
    }
    auto alive = coordinator_->KeepAlive(a->record.lease);
    if (!alive.ok() && alive.error().code() == Code::kAborted) {
      MarkStale(*a, "lease lost while cricketd was down: " + alive.error().message());
      continue;
    }
    if (!alive.ok()) {
      log::Warn({}, "volume {}: cannot renew its lease yet: {}", volume, alive.error().message());
    }
    AdoptPublishedHead(*a);
    StartKeeper(a);
    log::Info({}, "volume {}: attachment resumed (token {})", volume, a->record.lease.token);
  }
  // A marker whose record is gone: the release finished, only the marker's removal did not.
  for (const auto& name : names) {
    if (name.ends_with(".releasing") &&
        !FileExists(options_.root + "/attachments/" +
                    name.substr(0, name.size() - std::string_view(".releasing").size()) +
                    ".json")) {
      std::error_code ec;
      std::filesystem::remove(options_.root + "/attachments/" + name, ec);
    }
  }
  return Ok();
}

void VolumeManager::FinishInterruptedRelease(const AttachmentRecord& record) {
  const std::string& volume = record.lease.volume;
  // Take the lease back when it is still ours (local: the lock died with the old process), then
  // give it up; a lease already gone needs nothing. The copy record was written before the
  // attachment became releasable (or never said "clean"), so the data is as safe as it was.
  auto alive = coordinator_->KeepAlive(record.lease);
  if (alive.ok()) {
    if (auto released = coordinator_->Release(record.lease); !released.ok()) {
      log::Warn({}, "volume {}: release: {} (the lease expires on its own)", volume,
                released.error().message());
    }
  } else if (alive.error().code() != Code::kAborted) {
    log::Warn({}, "volume {}: cannot reach the lease to release it: {} (it expires on its own)",
              volume, alive.error().message());
  }
  std::error_code ec;
  std::filesystem::remove(AttachmentPath(volume), ec);
  std::filesystem::remove(ReleasingPath(volume), ec);
  log::Info({}, "volume {}: {} interrupted by a restart finished: lease released", volume,
            record.users.empty() ? "attach" : "detach");
}

void VolumeManager::AdoptPublishedHead(Attachment& a) {
  // A crash between publishing a head and recording it: the head carrying our token is ours.
  auto head = coordinator_->ReadHead(a.record.lease.volume);
  if (!head.ok() || !head->has_value() || (*head)->token != a.record.lease.token ||
      (*head)->manifest_digest == a.record.head) {
    return;
  }
  std::lock_guard lock(a.mu);
  a.record.head = (*head)->manifest_digest;
  log::Info({}, "volume {}: recorded head {} published before a restart", a.record.lease.volume,
            a.record.head);
  if (auto saved = PersistLocked(a); !saved.ok()) {
    log::Warn({}, "volume {}: {}", a.record.lease.volume, saved.error().message());
  }
}

Result<void> VolumeManager::BringCopyToHead(Attachment& a, const std::optional<VolumeHead>& head) {
  const std::string& volume = a.record.lease.volume;
  const std::string data = DataPath(volume);
  CR_ASSIGN_OR_RETURN(std::optional<CopyRecord> copy, ReadCopyRecord(CopyPath(volume)));
  const std::string digest = head ? head->manifest_digest : "";
  std::error_code ec;
  const bool current =
      copy && copy->clean && copy->digest == digest && std::filesystem::is_directory(data, ec);
  if (!current && head) {
    CR_ASSIGN_OR_RETURN(auto store, OpenStore(volume));
    volumes::RestoreOptions restore_options;
    restore_options.state_dir = StateDir(volume);
    auto restored = volumes::Restore(digest, *store, CacheDir(), data, restore_options);
    if (!restored.ok()) {
      return restored.error().Wrap("restore volume " + volume + " at " + digest + " from " +
                                   store->Describe());
    }
    log::Info({}, "volume {}: restored {} ({} bytes downloaded)", volume, digest,
              restored->bytes_downloaded);
    std::lock_guard lock(a.mu);
    a.restore_bytes_downloaded = restored->bytes_downloaded;
  } else if (!current) {
    // No snapshot was ever published: whatever the local copy holds is not the volume.
    std::filesystem::remove_all(data, ec);
    std::filesystem::remove_all(StateDir(volume), ec);
    CR_RETURN_IF_ERROR(MakeDirs(data, 0755));
  }
  // Containers are about to write into it: it is no longer exactly `digest`.
  return WriteCopy(volume, {digest, false});
}

Result<std::shared_ptr<VolumeManager::Attachment>> VolumeManager::AttachFirst(
    const std::string& volume, const std::string& pod, const std::string& ctr) {
  CR_ASSIGN_OR_RETURN(VolumeLease lease, coordinator_->Acquire(volume, options_.node));
  // Undo in the order a crash in between also repairs: the record first (a lease without a
  // record dies with this process or expires), then the lease.
  Cleanup release([&] {
    std::error_code ec;
    std::filesystem::remove(AttachmentPath(volume), ec);
    if (auto released = coordinator_->Release(lease); !released.ok()) {
      log::Warn({}, "volume {}: release after a failed attach: {}", volume,
                released.error().message());
    }
  });
  CR_FAILPOINT(kVolumeAttachAfterAcquire);
  AttachmentRecord record;
  record.lease = lease;
  // The intent: a record without users. Open() releases the lease of such a record, so a crash
  // before the attach finishes cannot keep the volume from every node until the lease expires.
  CR_RETURN_IF_ERROR(WriteFileAtomic(AttachmentPath(volume), AttachmentToJson(record), 0600));
  CR_ASSIGN_OR_RETURN(std::optional<VolumeHead> head, coordinator_->ReadHead(volume));
  record.head = head ? head->manifest_digest : "";
  record.users[ctr] = pod;
  auto a = std::make_shared<Attachment>(std::move(record));
  CR_RETURN_IF_ERROR(BringCopyToHead(*a, head));
  CR_FAILPOINT(kVolumeAttachAfterRestore);
  {
    std::lock_guard lock(a->mu);
    a->next_snapshot = std::chrono::steady_clock::now() + options_.snapshot_interval;
    CR_RETURN_IF_ERROR(PersistLocked(*a));
  }
  CR_FAILPOINT(kVolumeAttachAfterRecord);
  release.Dismiss();
  {
    std::lock_guard lock(mu_);
    attachments_[volume] = a;
  }
  StartKeeper(a);
  log::Info({.pod = pod, .ctr = ctr}, "volume {} attached (token {}, head {})", volume, lease.token,
            a->record.head.empty() ? "none" : a->record.head);
  return a;
}

Result<std::string> VolumeManager::Attach(const std::string& volume, const std::string& pod,
                                          const std::string& ctr) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  auto op = OpLock(volume);
  std::lock_guard op_lock(*op);
  auto a = Find(volume);
  if (!a) {
    CR_ASSIGN_OR_RETURN(a, AttachFirst(volume, pod, ctr));
    return DataPath(volume);
  }
  std::lock_guard lock(a->mu);
  if (a->record.stale) {
    return Error(Code::kUnavailable, "volume " + volume + ": the local copy is stale (" +
                                         a->record.stale_reason +
                                         "); remove the containers still using it");
  }
  if (a->record.users.emplace(ctr, pod).second) {
    if (auto saved = PersistLocked(*a); !saved.ok()) {
      a->record.users.erase(ctr);
      return saved.error();
    }
  }
  return DataPath(volume);
}

Result<void> VolumeManager::MarkReleasing(const std::string& volume, FailPointId then) {
  CR_RETURN_IF_ERROR(WriteFileAtomic(ReleasingPath(volume), "", 0600));
  if (auto fp = FailPoint(then); !fp.ok()) {
    std::error_code ec;
    std::filesystem::remove(ReleasingPath(volume), ec);  // still attached, as before
    return fp;
  }
  return Ok();
}

void VolumeManager::Drop(const std::shared_ptr<Attachment>& a) {
  a->keeper.reset();
  std::string volume;
  {
    std::lock_guard lock(a->mu);
    a->dropped = true;
    volume = a->record.lease.volume;
  }
  std::error_code ec;
  std::filesystem::remove(AttachmentPath(volume), ec);
  std::filesystem::remove(ReleasingPath(volume), ec);
  std::lock_guard lock(mu_);
  attachments_.erase(volume);
}

Result<void> VolumeManager::DetachLocked(const std::shared_ptr<Attachment>& a, bool publish) {
  const std::string volume = a->record.lease.volume;
  bool stale;
  {
    std::lock_guard lock(a->mu);
    stale = a->record.stale;
  }
  bool published = false;
  if (publish && !stale) {
    auto snap = SnapshotLocked(*a);
    std::lock_guard lock(a->mu);
    stale = a->record.stale;
    if (!snap.ok() && !stale) {
      return snap.error().Wrap("final snapshot of volume " + volume);
    }
    published = snap.ok();
  }
  CR_FAILPOINT(kVolumeDetachAfterSnapshot);
  VolumeLease lease;
  std::string head;
  {
    std::lock_guard lock(a->mu);
    lease = a->record.lease;
    head = a->record.head;
  }
  // Only a copy exactly at the published head may be served again without a restore. Written
  // before the lease goes: after the release another node may publish a newer head.
  CR_RETURN_IF_ERROR(WriteCopy(volume, {head, published}));
  if (auto marked = MarkReleasing(volume, FailPointId::kVolumeDetachAfterIntent); !marked.ok()) {
    (void)WriteCopy(volume, {head, false});  // still attached: containers may write on
    return marked.error();
  }
  a->keeper.reset();
  if (!stale) {
    if (auto released = coordinator_->Release(lease); !released.ok()) {
      log::Warn({}, "volume {}: release: {} (the lease expires on its own)", volume,
                released.error().message());
    }
  }
  // The lease is gone; dropping the records cannot be undone now, so an error here is only
  // logged (Open() finishes a release the marker announces).
  if (auto fp = FailPoint(FailPointId::kVolumeDetachAfterRelease); !fp.ok()) {
    log::Warn({}, "volume {}: {}", volume, fp.error().message());
  }
  Drop(a);
  log::Info({}, "volume {} detached{}", volume,
            stale       ? " (stale copy, not published)"
            : published ? ", head " + head
                        : "");
  return Ok();
}

Result<void> VolumeManager::Detach(const std::string& volume, const std::string& ctr,
                                   bool publish) {
  auto op = OpLock(volume);
  std::lock_guard op_lock(*op);
  auto a = Find(volume);
  if (!a) {
    return Ok();
  }
  {
    std::lock_guard lock(a->mu);
    if (!a->record.users.contains(ctr)) {
      return Ok();
    }
    if (a->record.users.size() > 1) {
      std::string pod = a->record.users[ctr];
      a->record.users.erase(ctr);
      if (auto saved = PersistLocked(*a); !saved.ok()) {
        a->record.users[ctr] = pod;
        return saved.error();
      }
      return Ok();
    }
  }
  return DetachLocked(a, publish);
}

std::vector<std::string> VolumeManager::VolumesOf(const std::string& key, bool by_pod) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [volume, a] : attachments_) {
    std::lock_guard a_lock(a->mu);
    for (const auto& [ctr, pod] : a->record.users) {
      if ((by_pod ? pod : ctr) == key) {
        out.push_back(volume);
        break;
      }
    }
  }
  return out;
}

Result<void> VolumeManager::DetachContainer(const std::string& ctr, bool publish) {
  for (const auto& volume : VolumesOf(ctr, /*by_pod=*/false)) {
    CR_RETURN_IF_ERROR(Detach(volume, ctr, publish));
  }
  return Ok();
}

Result<void> VolumeManager::DetachPod(const std::string& pod) {
  for (const auto& volume : VolumesOf(pod, /*by_pod=*/true)) {
    std::vector<std::string> users;
    if (auto a = Find(volume)) {
      std::lock_guard lock(a->mu);
      for (const auto& [ctr, owner_pod] : a->record.users) {
        if (owner_pod == pod) {
          users.push_back(ctr);
        }
      }
    }
    for (const auto& ctr : users) {
      CR_RETURN_IF_ERROR(Detach(volume, ctr));
    }
  }
  return Ok();
}

}  // namespace cricket::storage
