#include "storage/image_store.h"

#include <algorithm>

#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "storage/image_db_recovery.h"
#include "storage/reference.h"

namespace cricket::storage {
namespace {

constexpr size_t kMinIdPrefix = 12;

bool IsHexPrefix(const std::string& s) {
  return s.size() >= kMinIdPrefix && s.size() < 64 &&
         s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// "sha256:<hex>" or "<hex>" -> "sha256:<hex>"; "" otherwise.
std::string AsFullId(const std::string& s) {
  if (s.rfind("sha256:", 0) == 0 && IsHex64(s.substr(7))) {
    return s;
  }
  if (IsHex64(s)) {
    return "sha256:" + s;
  }
  return "";
}

}  // namespace

ImageStore::~ImageStore() = default;

Result<std::unique_ptr<ImageStore>> ImageStore::Open(ImageStoreOptions options, Syscalls& sys) {
  std::unique_ptr<ImageStore> store(new ImageStore());
  store->http_ = HttpClient(options.fetch_binary);
  CR_RETURN_IF_ERROR(MakeDirs(options.root, 0700));
  CR_ASSIGN_OR_RETURN(store->content_, ContentStore::Open(options.root));
  CR_ASSIGN_OR_RETURN(store->snapshots_,
                      Snapshotter::Open(options.root + "/snapshots", sys, options.unpack));
  CR_ASSIGN_OR_RETURN(store->db_, ImageDb::Open(options.root + "/images.db"));
  if (!store->db_->set_aside_path().empty()) {
    CR_ASSIGN_OR_RETURN(ImageRecovery rebuilt,
                        RebuildImageDb(*store->content_, *store->snapshots_, *store->db_));
    log::Warn({},
              "images.db rebuilt from the content store: {} images recovered by id (tags "
              "are not on disk), {} incomplete left for GC; the damaged file is {}",
              rebuilt.recovered, rebuilt.incomplete, store->db_->set_aside_path());
  }
  CR_RETURN_IF_ERROR(store->Reconfigure(options.registry, options.pinned));
  options.max_parallel_downloads = std::max(1, options.max_parallel_downloads);
  store->options_ = std::move(options);
  store->Reconcile();
  return store;
}

Result<std::optional<std::string>> ImageStore::Lookup(const std::string& ref_or_id) const {
  std::string id = AsFullId(ref_or_id);
  if (!id.empty()) {
    auto image = db_->Get(id);
    if (image.ok()) {
      return std::optional<std::string>(id);
    }
    if (image.error().code() != Code::kNotFound) {
      return std::move(image).error();
    }
    return std::optional<std::string>();
  }
  auto ref = ParseReference(ref_or_id);
  if (ref.ok()) {
    std::string name = ref->digest().empty() ? ref->TagString() : ref->DigestString();
    CR_ASSIGN_OR_RETURN(std::optional<std::string> found, db_->FindByName(name));
    if (found.has_value()) {
      return found;
    }
  }
  if (IsHexPrefix(ref_or_id)) {
    CR_ASSIGN_OR_RETURN(std::vector<std::string> ids, db_->FindByIdPrefix(ref_or_id));
    if (ids.size() == 1) {
      return std::optional<std::string>(ids.front());
    }
  }
  if (!ref.ok()) {
    return std::move(ref).error();
  }
  return std::optional<std::string>();
}

Result<void> ImageStore::Reconfigure(RegistryConfig registry,
                                     const std::vector<std::string>& pinned) {
  std::set<std::string> names;
  for (const std::string& p : pinned) {
    std::string id = AsFullId(p);
    if (!id.empty()) {
      names.insert(id);
      continue;
    }
    auto ref = ParseReference(p);
    if (!ref.ok()) {
      return ref.error().Wrap("pinned image");
    }
    names.insert(ref->digest().empty() ? ref->TagString() : ref->DigestString());
  }
  auto shared = std::make_shared<const RegistryConfig>(std::move(registry));
  std::lock_guard lock(settings_mu_);
  registry_ = std::move(shared);
  pinned_ = std::move(names);
  return Ok();
}

std::shared_ptr<const RegistryConfig> ImageStore::registry() const {
  std::lock_guard lock(settings_mu_);
  return registry_;
}

void ImageStore::PinIds(const std::vector<std::string>& ids) {
  std::lock_guard lock(settings_mu_);
  pinned_ids_.insert(ids.begin(), ids.end());
}

Image ImageStore::WithPinned(Image image) const {
  std::lock_guard lock(settings_mu_);
  image.pinned = pinned_.count(image.id) > 0 || pinned_ids_.count(image.id) > 0 ||
                 std::any_of(image.repo_tags.begin(), image.repo_tags.end(),
                             [&](const std::string& t) { return pinned_.count(t) > 0; }) ||
                 std::any_of(image.repo_digests.begin(), image.repo_digests.end(),
                             [&](const std::string& d) { return pinned_.count(d) > 0; });
  return image;
}

Result<Image> ImageStore::Status(const std::string& ref_or_id) const {
  CR_ASSIGN_OR_RETURN(std::optional<std::string> id, Lookup(ref_or_id));
  if (!id.has_value()) {
    return Error(Code::kNotFound, "image \"" + ref_or_id + "\" not found");
  }
  CR_ASSIGN_OR_RETURN(Image image, db_->Get(*id));
  return WithPinned(std::move(image));
}

Result<std::vector<Image>> ImageStore::List() const {
  CR_ASSIGN_OR_RETURN(std::vector<Image> images, db_->List());
  for (Image& image : images) {
    image = WithPinned(std::move(image));
  }
  return images;
}

Result<void> ImageStore::Remove(const std::string& ref_or_id) {
  std::string full_id = AsFullId(ref_or_id);
  auto ref = ParseReference(ref_or_id);
  if (full_id.empty() && ref.ok() && ref->digest().empty()) {
    // By tag: drop the name; the image goes when its last tag does (one transaction).
    CR_ASSIGN_OR_RETURN(std::optional<std::string> id, db_->DeleteTag(ref->TagString()));
    if (id.has_value()) {
      CR_FAILPOINT(kImageRemoveAfterRecord);
      return GarbageCollect();
    }
  }
  CR_ASSIGN_OR_RETURN(std::optional<std::string> id, Lookup(ref_or_id));
  if (id.has_value()) {
    CR_RETURN_IF_ERROR(db_->DeleteImage(*id));
    CR_FAILPOINT(kImageRemoveAfterRecord);
  }
  // Also for an unknown image (CRI: RemoveImage is idempotent and succeeds): a retry after a
  // removal that failed in its GC finishes it.
  return GarbageCollect();
}

Result<FsInfo> ImageStore::GetFsInfo() const {
  FsInfo info;
  info.image_fs_path = options_.root;
  CR_ASSIGN_OR_RETURN(DiskUsage blobs, MeasureDiskUsage(content_->root() + "/blobs"));
  CR_ASSIGN_OR_RETURN(DiskUsage ingest, MeasureDiskUsage(content_->root() + "/ingest"));
  DiskUsage content{blobs.used_bytes + ingest.used_bytes, blobs.inodes_used + ingest.inodes_used};
  CR_ASSIGN_OR_RETURN(DiskUsage layers, MeasureDiskUsage(snapshots_->root() + "/layers"));
  info.image_fs.used_bytes = content.used_bytes + layers.used_bytes;
  info.image_fs.inodes_used = content.inodes_used + layers.inodes_used;
  info.container_fs_path = snapshots_->root() + "/containers";
  CR_ASSIGN_OR_RETURN(info.container_fs, MeasureDiskUsage(info.container_fs_path));
  return info;
}

void ImageStore::Hold(const std::vector<std::string>& keys) {
  std::lock_guard lock(gc_mu_);
  in_use_.insert(keys.begin(), keys.end());
}

void ImageStore::Release(const std::vector<std::string>& keys) {
  std::lock_guard lock(gc_mu_);
  for (const std::string& k : keys) {
    auto it = in_use_.find(k);
    if (it != in_use_.end()) {
      in_use_.erase(it);
    }
  }
}

}  // namespace cricket::storage
