// VolumeManager: snapshots (on demand, on container stop, periodic), the operator's release and
// the read-only views.

#include <algorithm>
#include <chrono>

#include "common/failpoint.h"
#include "common/log.h"
#include "storage/volumes/snapshots/volume_snapshot.h"
#include "storage/volumes/volume_manager.h"
#include "storage/volumes/volume_manager_internal.h"

namespace cricket::storage {
namespace {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<VolumeSnapshotReport> VolumeManager::SnapshotLocked(Attachment& a) {
  VolumeLease lease;
  std::string parent;
  {
    std::lock_guard lock(a.mu);
    if (a.record.stale) {
      return Error(Code::kFailedPrecondition, "volume " + a.record.lease.volume +
                                                  ": the local copy is stale (" +
                                                  a.record.stale_reason + ")");
    }
    lease = a.record.lease;
    parent = a.record.head;
  }
  const std::string& volume = lease.volume;
  CR_ASSIGN_OR_RETURN(auto store, OpenStore(volume));
  volumes::SnapshotOptions options;
  options.squash_after_layers = options_.squash_after_layers;
  options.layer_cache_dir = CacheDir();
  auto snap = volumes::Snapshot(DataPath(volume), StateDir(volume), *store, parent, options);
  if (!snap.ok()) {
    return snap.error().Wrap("snapshot volume " + volume + " to " + store->Describe());
  }
  VolumeSnapshotReport report{snap->manifest_digest, snap->new_layer, snap->bytes_uploaded,
                              snap->layer_count};
  // In the store, not published: the next snapshot diffs against the local index (which
  // describes it), or writes a full layer when the parent differs.
  CR_FAILPOINT(kVolumeSnapshotAfterUpload);
  if (snap->manifest_digest != parent) {
    {
      std::lock_guard lock(a.mu);
      if (a.record.stale) {
        return Error(Code::kAborted, "volume " + volume + ": lease lost during the snapshot (" +
                                         a.record.stale_reason + ")");
      }
    }
    auto published = coordinator_->PublishHead(lease, {snap->manifest_digest, lease.token});
    if (!published.ok()) {
      if (published.error().code() == Code::kAborted) {
        MarkStale(a, published.error().message());
      }
      return published.error();
    }
  }
  std::lock_guard lock(a.mu);
  a.record.head = snap->manifest_digest;
  ++a.snapshots;
  a.bytes_uploaded += snap->bytes_uploaded;
  a.last_snapshot_bytes_uploaded = snap->bytes_uploaded;
  a.last_snapshot_unix_ms = NowUnixMs();
  a.last_error.clear();
  // Published, not recorded: Open() adopts a head carrying our token (AdoptPublishedHead).
  CR_FAILPOINT(kVolumeSnapshotAfterPublish);
  CR_RETURN_IF_ERROR(PersistLocked(a));
  return report;
}

Result<VolumeSnapshotReport> VolumeManager::SnapshotNow(const std::string& volume) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  auto op = OpLock(volume);
  std::lock_guard op_lock(*op);
  auto a = Find(volume);
  if (!a) {
    return Error(Code::kNotFound, "volume " + volume + " is not attached on node " + node());
  }
  return SnapshotLocked(*a);
}

Result<void> VolumeManager::SnapshotContainer(const std::string& ctr) {
  Result<void> first = Ok();
  for (const auto& volume : VolumesOf(ctr, /*by_pod=*/false)) {
    auto snap = SnapshotNow(volume);
    if (!snap.ok() && first.ok()) {
      first = snap.error();
    }
  }
  return first;
}

void VolumeManager::SnapshotLoop() {
  const auto tick = std::clamp<std::chrono::milliseconds>(
      options_.snapshot_interval / 5, std::chrono::milliseconds(50), std::chrono::seconds(1));
  for (;;) {
    std::vector<std::shared_ptr<Attachment>> due;
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, tick, [&] { return stop_; })) {
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      for (const auto& [volume, a] : attachments_) {
        std::lock_guard a_lock(a->mu);
        if (!a->record.stale && a->next_snapshot <= now) {
          due.push_back(a);
        }
      }
    }
    for (const auto& a : due) {
      const std::string volume = a->record.lease.volume;
      auto op = OpLock(volume);
      std::lock_guard op_lock(*op);
      {
        std::lock_guard lock(a->mu);
        if (a->dropped || a->record.stale) {
          continue;
        }
      }
      auto snap = SnapshotLocked(*a);
      std::lock_guard lock(a->mu);
      a->next_snapshot = std::chrono::steady_clock::now() + options_.snapshot_interval;
      if (!snap.ok()) {
        a->last_error = snap.error().message();
        log::Warn({}, "volume {}: periodic snapshot: {}", volume, a->last_error);
      } else if (snap->new_layer) {
        log::Info({}, "volume {}: periodic snapshot {} ({} bytes uploaded)", volume,
                  snap->manifest_digest, snap->bytes_uploaded);
      }
    }
  }
}

Result<void> VolumeManager::Release(const std::string& volume) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  auto op = OpLock(volume);
  std::lock_guard op_lock(*op);
  auto a = Find(volume);
  if (!a) {
    return Error(Code::kNotFound, "volume " + volume + " is not attached on node " + node());
  }
  bool stale;
  {
    std::lock_guard lock(a->mu);
    stale = a->record.stale;
  }
  if (!stale) {
    if (auto snap = SnapshotLocked(*a); !snap.ok()) {
      log::Warn({}, "volume {}: snapshot before the release: {}", volume, snap.error().message());
    }
  }
  VolumeLease lease;
  std::string head;
  {
    std::lock_guard lock(a->mu);
    lease = a->record.lease;
    head = a->record.head;
  }
  // Containers still running here keep writing into a copy nobody will publish.
  CR_RETURN_IF_ERROR(WriteCopy(volume, {head, false}));
  CR_RETURN_IF_ERROR(MarkReleasing(volume, FailPointId::kVolumeReleaseAfterIntent));
  a->keeper.reset();
  CR_RETURN_IF_ERROR(coordinator_->Release(lease));
  Drop(a);
  log::Info({}, "volume {} released by the operator", volume);
  return Ok();
}

std::vector<AttachedVolume> VolumeManager::Attached() const {
  std::vector<AttachedVolume> out;
  std::lock_guard lock(mu_);
  for (const auto& [volume, a] : attachments_) {
    std::lock_guard a_lock(a->mu);
    AttachedVolume v;
    v.volume = volume;
    v.path = DataPath(volume);
    v.lease = a->record.lease;
    v.head = a->record.head;
    v.users = a->record.users;
    v.stale = a->record.stale;
    v.stale_reason = a->record.stale_reason;
    v.snapshots = a->snapshots;
    v.last_snapshot_unix_ms = a->last_snapshot_unix_ms;
    v.last_error = a->last_error;
    v.restore_bytes_downloaded = a->restore_bytes_downloaded;
    v.bytes_uploaded = a->bytes_uploaded;
    v.last_snapshot_bytes_uploaded = a->last_snapshot_bytes_uploaded;
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<AttachedVolume> VolumeManager::AttachedToPod(const std::string& pod) const {
  std::vector<AttachedVolume> out;
  for (auto& v : Attached()) {
    if (std::any_of(v.users.begin(), v.users.end(),
                    [&](const auto& user) { return user.second == pod; })) {
      out.push_back(std::move(v));
    }
  }
  return out;
}

Result<std::vector<VolumeOwner>> VolumeManager::List() { return coordinator_->List(); }

}  // namespace cricket::storage
