#pragma once

// ImageStore: the storage API the CRI ImageService uses.
//
// Layout under `root` (ARCHITECTURE.md: /var/lib/cricket):
//   blobs/sha256/<hex>, ingest/                     ContentStore (verified, resumable blobs)
//   snapshots/layers/<chain>, snapshots/containers/<key>   Snapshotter (overlayfs)
//   images.db                                       ImageDb (image metadata, SQLite)
//
// Pull() resolves the reference (mirrors, auth, platform), downloads config and layers (up to
// `max_parallel_downloads` at once, streamed to disk), unpacks each layer once per chain ID,
// and records the image; image id = config digest. Two pulls of the same blob at the same time
// download it once. Status() finds an image by id (full, "sha256:"-less or a unique hex prefix
// of at least 12 characters), tag or repo digest. Remove() drops a name (or, by id, the whole
// image) and garbage-collects blobs and layers no image or container snapshot uses.
//
// Crash consistency (issue #14): every step publishes with rename(2) or one SQLite
// transaction, in the order blobs -> layers -> image record (pull) and image record -> blobs ->
// layers (remove), so a crash leaves at worst unreferenced blobs, layers, partial downloads and
// temporaries, never a record without its content. Open() removes those (Reconcile).
//
// Thread-safe. Pulls run concurrently; GC never deletes what a running pull has fetched.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "storage/content_store.h"
#include "storage/disk_usage.h"
#include "storage/http_client.h"
#include "storage/image.h"
#include "storage/image_archive.h"
#include "storage/image_db.h"
#include "storage/reference.h"
#include "storage/registry_config.h"
#include "storage/snapshotter.h"

namespace cricket::storage {

struct ImageStoreOptions {
  std::string root = "/var/lib/cricket";
  RegistryConfig registry;
  UnpackOptions unpack;
  Platform platform = HostPlatform();
  // References or image ids reported with pinned=true (kubelet's image GC skips them).
  std::vector<std::string> pinned;
  int max_parallel_downloads = 3;
  // The cricket-fetch executable; "" finds it beside this executable (see http_client.h).
  std::string fetch_binary;
  // A pull running longer than this logs its progress at info this often. Not a config key:
  // tests shorten it.
  int progress_log_interval_ms = 5000;
};

struct FsInfo {
  std::string image_fs_path;  // where images live (blobs + layers)
  DiskUsage image_fs;
  std::string container_fs_path;  // container writable layers
  DiskUsage container_fs;
};

// One pull's layer downloads, as ImageStore::Pull reports them to its observer.
struct PullProgress {
  std::vector<Descriptor> layers;      // the manifest's layers
  std::vector<int64_t> fetched_bytes;  // on disk per layer (a partial download's size)
  std::vector<bool> done;              // fetched and verified, or unpacked before
  int64_t elapsed_ms = 0;
};
// Called on the pulling thread: once the layers are known, about once a second while they
// download, and once when all are in place. Must not call into the ImageStore.
using PullObserver = std::function<void(const PullProgress&)>;

class ImageStore {
 public:
  // kInvalidArgument for a malformed pinned reference; errors of the parts otherwise.
  static Result<std::unique_ptr<ImageStore>> Open(ImageStoreOptions options, Syscalls& sys);
  ~ImageStore();

  // Pulls `ref` (normalised; tag and/or digest). Returns the image with all its names.
  // kInvalidArgument (bad reference), kNotFound, kUnauthenticated, kDataLoss (a blob or layer
  // failed verification; nothing of it is kept), kResourceExhausted (a layer exceeds
  // `unpack.max_uncompressed_bytes` or `unpack.max_entries`; nothing of the pull is kept: no
  // image record, no layer, no temporary, and its blobs are garbage-collected like other
  // failures'), kUnavailable, kDeadlineExceeded (partial downloads are kept for a resume by
  // this process; Open drops them). With any other error the pull's partial downloads go too.
  // While layers download, `observer` (when set) sees their progress, and a pull running
  // longer than `progress_log_interval_ms` (5 s) logs its progress at info that often.
  Result<Image> Pull(const std::string& ref, const AuthConfig& auth,
                     Deadline deadline = Deadline::max(), const PullObserver& observer = {});
  // Imports every image of an OCI image layout archive or `docker save` tarball read from
  // `source` (storage/image_import.cc; what is checked: storage/image_import_plan.h): blobs
  // into the content store, layers unpacked, records tagged with the archive's names. Returns
  // the images. Errors of StageArchive and PlanImport (kInvalidArgument naming the entry or
  // blob, kDataLoss for a digest mismatch), and of storing; on any error nothing of the archive
  // is kept (its staging copy, blobs and layers no other image uses are removed).
  Result<std::vector<Image>> Import(const ByteSource& source);
  // Reports these image ids pinned besides `pinned` (images auto-imported with
  // images.pin_imported); Reconfigure keeps them.
  void PinIds(const std::vector<std::string>& ids);

  // kNotFound when no image matches; kInvalidArgument for a malformed reference.
  Result<Image> Status(const std::string& ref_or_id) const;
  Result<std::vector<Image>> List() const;
  // By id: removes the image and all its names. By tag: removes the tag, and the image when it
  // has no tag left. By repo digest: removes the image. Unknown -> OK (CRI: idempotent).
  Result<void> Remove(const std::string& ref_or_id);
  // Deletes blobs and layers that no image and no container snapshot needs.
  Result<void> GarbageCollect();
  // Replaces the registry settings and the pinned list (cricketd's SIGHUP reload). Later pulls
  // and statuses use the new ones; a pull already running keeps the settings it started with.
  // kInvalidArgument for a malformed pinned reference, and then nothing changes.
  Result<void> Reconfigure(RegistryConfig registry, const std::vector<std::string>& pinned);

  // What one GC or start-up reconcile removed.
  struct SweepCounts {
    int blobs = 0;
    int layers = 0;
    int partials = 0;  // partial downloads and temporaries under ingest/
  };
  Result<FsInfo> GetFsInfo() const;

  Snapshotter& snapshotter() { return *snapshots_; }
  ContentStore& content() { return *content_; }
  // Blob GET requests sent since Open (tests check shared downloads with it).
  int64_t blob_requests() const { return blob_requests_.load(); }

 private:
  ImageStore() = default;
  // The image id `ref_or_id` names, or nullopt.
  Result<std::optional<std::string>> Lookup(const std::string& ref_or_id) const;
  Image WithPinned(Image image) const;
  // Start-up repair (storage/image_reconcile.cc), called by Open: what a crash in a pull or a
  // removal can leave is removed. Never fails Open: on an error it logs and keeps everything.
  void Reconcile();
  // GC's mark and sweep; partials older than `partial_age_seconds` go too.
  Result<SweepCounts> Sweep(int64_t partial_age_seconds);
  // After a pull failed for good: removes the partial downloads of its blobs, then GC.
  void DropFailedPull(const std::string& ref, const std::vector<std::string>& digests);
  Result<void> FetchLayers(const RegistryConfig& registry, const Reference& ref,
                           const AuthConfig& auth, const std::vector<Descriptor>& layers,
                           const std::vector<std::string>& diff_ids, Deadline deadline,
                           const PullObserver& observer);
  void Hold(const std::vector<std::string>& keys);
  void Release(const std::vector<std::string>& keys);

  // The registry settings for the next pull (the copy in options_ is not used after Open).
  std::shared_ptr<const RegistryConfig> registry() const;

  ImageStoreOptions options_;
  HttpClient http_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<Snapshotter> snapshots_;
  std::unique_ptr<ImageDb> db_;
  // Swapped whole by Reconfigure, read under the lock (a pull copies the pointer).
  mutable std::mutex settings_mu_;
  std::shared_ptr<const RegistryConfig> registry_;  // Guarded by settings_mu_.
  std::set<std::string> pinned_;      // Guarded by settings_mu_. Normalised names and ids.
  std::set<std::string> pinned_ids_;  // Guarded by settings_mu_. PinIds; not reloaded.
  std::atomic<int64_t> blob_requests_{0};

  std::mutex gc_mu_;
  std::multiset<std::string> in_use_;  // Guarded by gc_mu_. Digests and chain IDs of running pulls.
};

}  // namespace cricket::storage
