#include "storage/volumes/snapshots/volume_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/layer_path.h"
#include "storage/volumes/snapshots/dir_snapshot_store.h"
#include "storage/volumes/snapshots/index_diff.h"
#include "storage/volumes/snapshots/snapshot_artifact.h"

namespace cricket::storage::volumes {
namespace {

struct TempFile {
  std::string path;
  UniqueFd fd;
};

Result<TempFile> CreateTemp(const std::string& dir) {
  std::string tmpl = dir + "/layer-XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) {
    return Error::FromErrno(errno, "create layer file in " + dir);
  }
  return TempFile{tmpl, UniqueFd(fd)};
}

// The index of `parent` when this node's state dir describes it, else none (a full layer).
std::optional<VolumeIndex> ParentIndex(const std::string& state_dir, const std::string& parent) {
  if (parent.empty()) {
    return std::nullopt;
  }
  auto index = LoadIndex(IndexPath(state_dir));
  if (!index.ok()) {
    if (index.error().code() != Code::kNotFound) {
      log::Warn({}, "ignoring volume index: {}", index.error().ToString());
    }
    return std::nullopt;
  }
  if (index->manifest_digest != parent) {
    log::Debug({}, "volume index describes {}, not parent {}: full layer",
               index->manifest_digest, parent);
    return std::nullopt;
  }
  return std::move(index).value();
}

Result<void> Upload(SnapshotStore& store, const Descriptor& blob, int fd,
                    SnapshotResult& result) {
  CR_ASSIGN_OR_RETURN(bool uploaded, store.PutBlob(blob, fd));
  if (uploaded) {
    result.bytes_uploaded += blob.size;
  }
  return Ok();
}

}  // namespace

std::string IndexPath(const std::string& state_dir) { return state_dir + "/index.json"; }

Result<SnapshotResult> Snapshot(const std::string& volume_dir, const std::string& state_dir,
                                SnapshotStore& store, const std::string& parent,
                                const SnapshotOptions& options) {
  CR_RETURN_IF_ERROR(MakeDirs(state_dir + "/tmp", 0700));
  std::optional<VolumeIndex> parent_index = ParentIndex(state_dir, parent);

  int64_t scan_time_ns = NowUnixNanos();
  CR_ASSIGN_OR_RETURN(ScanResult scan, ScanVolume(volume_dir));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd volume_fd(::open(volume_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!volume_fd.valid()) {
    return Error::FromErrno(errno, "open volume directory " + volume_dir);
  }
  HashFile hash = [&](const IndexEntry& e) { return HashVolumeFile(volume_fd.get(), e); };
  SnapshotResult result;
  bool full = true;
  VolumeIndex previous;
  IndexDiff diff;
  if (parent_index.has_value()) {
    CR_ASSIGN_OR_RETURN(diff, DiffIndex(*parent_index, scan.entries, hash,
                                        options.racy_margin.count()));
    if (diff.empty() && scan.root == parent_index->root) {
      result.manifest_digest = parent;
      result.layer_count = static_cast<int>(parent_index->layers.size());
      return result;
    }
    // At the layer limit the new snapshot is one full layer instead (a squash).
    full = static_cast<int>(parent_index->layers.size()) >= options.squash_after_layers;
    if (!full) {
      previous = std::move(parent_index).value();
    }
  }
  if (full) {
    CR_ASSIGN_OR_RETURN(diff, DiffIndex(previous, scan.entries, hash, 0));
  }

  CR_ASSIGN_OR_RETURN(TempFile layer_file, CreateTemp(state_dir + "/tmp"));
  Cleanup remove_layer([&] { ::unlink(layer_file.path.c_str()); });
  CR_ASSIGN_OR_RETURN(BuiltLayer layer, BuildLayer(volume_fd.get(), scan.entries, diff,
                                                   layer_file.fd.get(), options.layer));
  if (::fsync(layer_file.fd.get()) < 0) {
    return Error::FromErrno(errno, "sync layer file " + layer_file.path);
  }

  VolumeIndex next;
  next.layers = full ? std::vector<Descriptor>{} : previous.layers;
  next.diff_ids = full ? std::vector<std::string>{} : previous.diff_ids;
  next.layers.push_back(layer.descriptor);
  next.diff_ids.push_back(layer.diff_id);
  next.scan_time_ns = scan_time_ns;
  next.root = scan.root;
  next.entries = std::move(scan.entries);

  std::string created = Rfc3339Utc(scan_time_ns);
  SnapshotConfig config{created, parent, next.root, next.diff_ids};
  std::string config_body = SerializeSnapshotConfig(config);
  Descriptor config_desc{std::string(kSnapshotConfigType), Sha256Digest(config_body),
                         static_cast<int64_t>(config_body.size()), {}};
  std::string manifest = SerializeSnapshotManifest(config_desc, next.layers, parent, created);

  auto where = "publish volume snapshot of " + volume_dir + " to " + store.Describe();
  auto r = Upload(store, layer.descriptor, layer_file.fd.get(), result);
  if (!r.ok()) {
    return r.error().Wrap(where);
  }
  CR_ASSIGN_OR_RETURN(TempFile config_file, CreateTemp(state_dir + "/tmp"));
  Cleanup remove_config([&] { ::unlink(config_file.path.c_str()); });
  CR_RETURN_IF_ERROR(WriteAll(config_file.fd.get(), config_body, config_file.path));
  r = Upload(store, config_desc, config_file.fd.get(), result);
  if (!r.ok()) {
    return r.error().Wrap(where);
  }
  auto digest = store.PutManifest(manifest, options.tag);
  if (!digest.ok()) {
    return digest.error().Wrap(where);
  }
  if (!options.layer_cache_dir.empty()) {
    CR_ASSIGN_OR_RETURN(std::unique_ptr<ContentStore> cache,
                        ContentStore::Open(options.layer_cache_dir));
    CR_RETURN_IF_ERROR(CopyIntoStore(layer_file.fd.get(), layer.descriptor.digest,
                                     layer.descriptor.size, *cache));
    if (!cache->Has(config_desc.digest)) {
      CR_RETURN_IF_ERROR(cache->WriteBlob(config_desc.digest, config_body));
    }
  }
  next.manifest_digest = *digest;
  CR_RETURN_IF_ERROR(SaveIndex(IndexPath(state_dir), next));

  result.manifest_digest = *digest;
  result.layer_count = static_cast<int>(next.layers.size());
  result.new_layer = true;
  result.full_layer = full;
  result.entries_packed = layer.entries_packed;
  result.whiteouts = static_cast<int64_t>(diff.whiteouts.size());
  log::Debug({}, "volume snapshot {} of {}: {} layers, {} entries, {} bytes uploaded",
             result.manifest_digest, volume_dir, result.layer_count, result.entries_packed,
             result.bytes_uploaded);
  return result;
}

}  // namespace cricket::storage::volumes
