#pragma once

// VolumeManager: portable volumes on this node (issue #7). It attaches a volume for the
// containers that use it — takes the volume's lease, brings the local working copy to the
// published head, keeps the lease alive and publishes snapshots periodically — and detaches it
// when the last of them goes: a final snapshot, a fenced publish, the lease released.
//
// Layout under `options.root` (cricketd: <root>/volumes):
//   data/<volume>          the working copy containers bind-mount
//   state/<volume>/        the snapshot index of the working copy (incremental snapshots)
//   cache/                 the layer cache (a ContentStore) shared by all volumes
//   attachments/, copies/  the persisted records (attachment_record.h)
//   coordination/          the local coordinator's files, unless options say otherwise
//   store/                 the dir snapshot store, unless options say otherwise
//
// Lease loss (expiry, a partition, another node took over, an operator's release) marks the
// attachment *stale*: its copy is never published and never served to a new container again;
// the containers already running keep their bind mount until they are removed. After a restart
// Open() resumes each persisted attachment with KeepAlive(saved lease), or marks it stale when
// the lease is gone.
//
// Crash consistency (issue #14): a first attach writes a record without users right after it
// acquires the lease, and a detach or an operator's release writes attachments/<volume>
// .releasing once the data is published and the copy record written; Open() finishes either by
// releasing the lease and removing the records. So after a crash a volume is attached (record
// with users, resumed) or released, and its published head and working copy are never lost.
//
// Thread-safety: every method is thread-safe. Calls for different volumes never wait for each
// other; calls for one volume are serialised (a periodic snapshot in progress delays an
// Attach/Detach of that volume only).

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/failpoint.h"
#include "common/result.h"
#include "storage/http_client.h"
#include "storage/volumes/attachment_record.h"
#include "storage/volumes/coordination/coordinator.h"
#include "storage/volumes/snapshots/oci_snapshot_store.h"
#include "storage/volumes/snapshots/snapshot_store.h"

namespace cricket::storage {

struct VolumeManagerOptions {
  std::string root;  // <cricket root>/volumes
  std::string node;  // this node's name in leases
  // local_dir defaults to <root>/coordination.
  CoordinatorOptions coordination;
  std::string store = "dir";        // "dir" or "oci"
  std::string snapshot_dir;         // dir: defaults to <root>/store
  std::string snapshot_repository;  // oci: "host:port/repo"; a volume goes to <repo>/<volume>
  volumes::OciStoreOptions oci;
  std::chrono::milliseconds snapshot_interval{std::chrono::seconds(30)};
  int squash_after_layers = 8;
  // Tests and benchmarks: the keeper's renewal interval (0 = TTL/3).
  std::chrono::milliseconds keepalive_interval{0};
  // The cricket-fetch executable for the oci store; "" finds it beside this executable.
  std::string fetch_binary;
};

// What `cricketctl volumes inspect` and PodSandboxStatus show of an attached volume.
struct AttachedVolume {
  std::string volume;
  std::string path;  // the working copy
  VolumeLease lease;
  std::string head;
  std::map<std::string, std::string> users;  // container id -> pod id
  bool stale = false;
  std::string stale_reason;
  int64_t snapshots = 0;              // published since attach (this process)
  int64_t last_snapshot_unix_ms = 0;  // 0: none yet
  std::string last_error;             // of the last periodic snapshot, "" when it worked
  // Bytes moved for this attachment (this process): blob bytes the restore at attach
  // downloaded (0 when the local copy was already the head, or no head existed), and blob
  // bytes the snapshots uploaded, in all and in the last one that published.
  int64_t restore_bytes_downloaded = 0;
  int64_t bytes_uploaded = 0;
  int64_t last_snapshot_bytes_uploaded = 0;
};

struct VolumeSnapshotReport {
  std::string manifest_digest;
  bool new_layer = false;
  int64_t bytes_uploaded = 0;
  int layer_count = 0;
};

class VolumeManager {
 public:
  // Opens the layout, builds the coordinator and resumes persisted attachments.
  // kInvalidArgument naming the option for a bad backend, store or name.
  static Result<std::unique_ptr<VolumeManager>> Open(VolumeManagerOptions options);

  VolumeManager(const VolumeManager&) = delete;
  VolumeManager& operator=(const VolumeManager&) = delete;
  // Stops the keepers and the snapshot thread. Does not release: the persisted leases are
  // resumed by the next Open (a graceful restart keeps the volumes).
  ~VolumeManager();

  const std::string& node() const { return options_.node; }

  // The working copy of `volume` for container `ctr` of pod `pod`, attached when it is the
  // first user. kInvalidArgument for a bad name; kUnavailable "volume X is owned by node Y";
  // kUnavailable when the local copy is stale; store and restore errors (kDataLoss for a
  // corrupted snapshot) — on any error nothing stays attached and the copy is unchanged.
  // Idempotent for a user already recorded.
  Result<std::string> Attach(const std::string& volume, const std::string& pod,
                             const std::string& ctr);

  // Drops user `ctr`. On the last user: a final snapshot, a fenced publish, the lease released
  // (only the release for a stale copy). With `publish` false (rolling back a failed create)
  // the last user's detach releases without a snapshot. An unknown user is OK. On error the
  // user stays recorded, so a retry repeats the detach.
  Result<void> Detach(const std::string& volume, const std::string& ctr, bool publish = true);
  // Detach from every volume `ctr` uses / every volume a container of `pod` uses.
  Result<void> DetachContainer(const std::string& ctr, bool publish = true);
  Result<void> DetachPod(const std::string& pod);

  // Snapshots and publishes `volume` now (it must be attached here: kNotFound otherwise;
  // kFailedPrecondition when stale; kAborted when fenced).
  Result<VolumeSnapshotReport> SnapshotNow(const std::string& volume);
  // Publishes every volume `ctr` uses (a container stopped). Errors are per volume, first one.
  Result<void> SnapshotContainer(const std::string& ctr);

  // Operator's forced release: a final snapshot when possible, then the lease is released and
  // the attachment dropped even though containers still use it (they keep a stale copy).
  Result<void> Release(const std::string& volume);

  std::vector<AttachedVolume> Attached() const;
  std::vector<AttachedVolume> AttachedToPod(const std::string& pod) const;
  // Every volume the coordinator knows (owners and heads across nodes).
  Result<std::vector<VolumeOwner>> List();

  std::string DataPath(const std::string& volume) const;

 private:
  struct Attachment;
  explicit VolumeManager(VolumeManagerOptions options,
                         std::unique_ptr<VolumeCoordinator> coordinator);

  Result<void> Resume();
  // Open(): a record without users (an attach cut short) or with a .releasing marker (a
  // detach or release cut short) is finished: lease released, records removed.
  void FinishInterruptedRelease(const AttachmentRecord& record);
  // Open(): records a head this lease published when the record missed it.
  void AdoptPublishedHead(Attachment& a);
  // Writes attachments/<volume>.releasing, then passes fail point `then` (removing the marker
  // again when it fails).
  Result<void> MarkReleasing(const std::string& volume, FailPointId then);
  Result<std::shared_ptr<Attachment>> AttachFirst(const std::string& volume, const std::string& pod,
                                                  const std::string& ctr);
  Result<void> BringCopyToHead(Attachment& a, const std::optional<VolumeHead>& head);
  Result<VolumeSnapshotReport> SnapshotLocked(Attachment& a);
  Result<void> DetachLocked(const std::shared_ptr<Attachment>& a, bool publish);
  void Drop(const std::shared_ptr<Attachment>& a);
  void StartKeeper(const std::shared_ptr<Attachment>& a);
  void MarkStale(Attachment& a, const std::string& reason);
  Result<void> PersistLocked(const Attachment& a);
  Result<void> WriteCopy(const std::string& volume, const CopyRecord& copy);
  Result<std::unique_ptr<volumes::SnapshotStore>> OpenStore(const std::string& volume);
  std::shared_ptr<Attachment> Find(const std::string& volume) const;
  // The lock serialising every operation on `volume`.
  std::shared_ptr<std::mutex> OpLock(const std::string& volume);
  std::vector<std::string> VolumesOf(const std::string& key, bool by_pod) const;
  void SnapshotLoop();

  std::string AttachmentPath(const std::string& volume) const;
  std::string CopyPath(const std::string& volume) const;
  std::string ReleasingPath(const std::string& volume) const;
  std::string StateDir(const std::string& volume) const;
  std::string CacheDir() const;

  const VolumeManagerOptions options_;
  const std::unique_ptr<VolumeCoordinator> coordinator_;
  HttpClient http_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;                                               // Guarded by mu_.
  std::map<std::string, std::shared_ptr<Attachment>> attachments_;  // Guarded by mu_.
  // Volumes whose first Attach is under way (other callers wait for it).
  std::map<std::string, std::shared_ptr<std::mutex>> volume_locks_;  // Guarded by mu_.
  std::thread snapshot_thread_;
};

}  // namespace cricket::storage
