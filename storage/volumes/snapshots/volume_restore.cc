#include "storage/volumes/snapshots/volume_restore.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/layer_path.h"
#include "storage/layer_unpack.h"
#include "storage/volumes/snapshots/snapshot_artifact.h"
#include "storage/volumes/snapshots/volume_index.h"
#include "storage/volumes/snapshots/volume_snapshot.h"

namespace cricket::storage::volumes {
namespace {

constexpr int64_t kMaxConfigBytes = 16 << 20;

struct Split {
  std::string parent;
  std::string name;
};

Result<Split> SplitTarget(const std::string& target_dir) {
  std::string t = target_dir;
  while (t.size() > 1 && t.back() == '/') {
    t.pop_back();
  }
  size_t slash = t.rfind('/');
  Split s{slash == std::string::npos ? "." : (slash == 0 ? "/" : t.substr(0, slash)),
          slash == std::string::npos ? t : t.substr(slash + 1)};
  if (s.name.empty() || s.name == "." || s.name == ".." || s.name == "/") {
    return Error(Code::kInvalidArgument, "invalid restore target \"" + target_dir + "\"");
  }
  return s;
}

Result<void> ApplyRoot(int fd, const RootAttributes& root, bool privileged,
                       const std::string& what) {
  if (privileged && ::fchown(fd, root.uid, root.gid) < 0) {
    return Error::FromErrno(errno, "chown " + what);
  }
  if (::fchmod(fd, root.mode & 07777) < 0) {
    return Error::FromErrno(errno, "chmod " + what);
  }
  timespec times[2];
  times[0] = times[1] = {static_cast<time_t>(root.mtime_ns / 1000000000),
                         static_cast<long>(root.mtime_ns % 1000000000)};
  if (::futimens(fd, times) < 0) {
    return Error::FromErrno(errno, "set times of " + what);
  }
  return Ok();
}

Result<void> ApplyLayers(const ImageManifest& manifest, const SnapshotConfig& config,
                         ContentStore& cache, int dir_fd, bool privileged) {
  UnpackOptions unpack;
  unpack.privileged = privileged;
  unpack.whiteouts = WhiteoutMode::kApply;
  // The image caps (16 GiB, 1M entries) are not for volumes: a squashed layer is the whole
  // volume, which may well be larger, and it is this cluster's own data, not a pulled image.
  unpack.max_uncompressed_bytes = std::numeric_limits<int64_t>::max();
  unpack.max_entries = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    CR_ASSIGN_OR_RETURN(UniqueFd blob, cache.OpenBlob(layer.digest));
    unpack.expected_diff_id = config.diff_ids[i];
    auto r = UnpackLayer(blob.get(), dir_fd, unpack);
    if (!r.ok()) {
      return r.error().Wrap("apply volume layer " + layer.digest);
    }
  }
  return Ok();
}

// Moves `staging` (in `parent_fd`) to `name`, swapping with an existing directory.
Result<void> Install(int parent_fd, const std::string& staging, const std::string& name,
                     bool& swapped) {
  swapped = false;
  if (::renameat2(parent_fd, staging.c_str(), parent_fd, name.c_str(), RENAME_NOREPLACE) == 0) {
    return Ok();
  }
  if (errno != EEXIST) {
    return Error::FromErrno(errno, "rename restored volume into " + name);
  }
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
    return Error(Code::kFailedPrecondition, "restore target " + name + " is not a directory");
  }
  if (::renameat2(parent_fd, staging.c_str(), parent_fd, name.c_str(), RENAME_EXCHANGE) < 0) {
    return Error::FromErrno(errno, "swap restored volume into " + name);
  }
  swapped = true;
  return Ok();
}

Result<void> WriteRestoredIndex(const std::string& target_dir, const RestoreOptions& options,
                                const std::string& digest, const ImageManifest& manifest,
                                const SnapshotConfig& config) {
  VolumeIndex index;
  index.manifest_digest = digest;
  index.layers = manifest.layers;
  index.diff_ids = config.diff_ids;
  index.scan_time_ns = NowUnixNanos();
  CR_ASSIGN_OR_RETURN(ScanResult scan, ScanVolume(target_dir));
  index.root = config.root;  // as published: what the next diff compares against
  // Hashes only where the next diff may need them: files written so recently that a change
  // within the same timestamp tick could hide. The others stay unknown (an ambiguous file with
  // no hash is packed again rather than trusted).
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open restored volume " + target_dir);
  }
  int64_t racy_after = index.scan_time_ns - options.racy_margin.count();
  for (IndexEntry& e : scan.entries) {
    if (e.type == EntryType::kFile && e.mtime_ns >= racy_after) {
      CR_ASSIGN_OR_RETURN(e.hash, HashVolumeFile(fd.get(), e));
    }
  }
  index.entries = std::move(scan.entries);
  CR_RETURN_IF_ERROR(MakeDirs(options.state_dir, 0700));
  return SaveIndex(IndexPath(options.state_dir), index);
}

}  // namespace

Result<RestoreResult> Restore(const std::string& manifest_digest, SnapshotStore& store,
                              const std::string& layer_cache_dir, const std::string& target_dir,
                              const RestoreOptions& options) {
  std::string where = "restore volume snapshot " + manifest_digest + " from " + store.Describe();
  CR_ASSIGN_OR_RETURN(Split target, SplitTarget(target_dir));
  CR_ASSIGN_OR_RETURN(std::unique_ptr<ContentStore> cache, ContentStore::Open(layer_cache_dir));
  auto body = store.GetManifest(manifest_digest);
  if (!body.ok()) {
    return body.error().Wrap(where);
  }
  CR_ASSIGN_OR_RETURN(ImageManifest manifest, ParseSnapshotManifest(*body));

  RestoreResult result;
  result.layer_count = static_cast<int>(manifest.layers.size());
  std::vector<Descriptor> blobs = manifest.layers;
  blobs.insert(blobs.begin(), manifest.config);
  for (const Descriptor& blob : blobs) {
    if (cache->Has(blob.digest)) {
      continue;
    }
    auto r = store.FetchBlob(blob, *cache);
    if (!r.ok()) {
      return r.error().Wrap(where);
    }
    result.bytes_downloaded += blob.size;
    ++result.blobs_downloaded;
  }
  CR_ASSIGN_OR_RETURN(std::string config_body,
                      cache->ReadBlob(manifest.config.digest, kMaxConfigBytes));
  CR_ASSIGN_OR_RETURN(SnapshotConfig config, ParseSnapshotConfig(config_body));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return Error(Code::kDataLoss, where + ": config lists " +
                                      std::to_string(config.diff_ids.size()) +
                                      " diff_ids for " + std::to_string(result.layer_count) +
                                      " layers");
  }

  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd parent_fd(::open(target.parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) {
    return Error::FromErrno(errno, "open parent of restore target " + target_dir);
  }
  std::string staging_path = target.parent + "/." + target.name + ".restore-XXXXXX";
  if (::mkdtemp(staging_path.data()) == nullptr) {
    return Error::FromErrno(errno, "create staging directory for " + target_dir);
  }
  std::string staging = staging_path.substr(staging_path.rfind('/') + 1);
  Cleanup remove_staging([&] { (void)RemoveAllAt(parent_fd.get(), staging); });
  {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd dir(::openat(parent_fd.get(), staging.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) {
      return Error::FromErrno(errno, "open staging directory " + staging_path);
    }
    bool privileged = options.privileged.value_or(::geteuid() == 0);
    auto r = ApplyLayers(manifest, config, *cache, dir.get(), privileged);
    if (!r.ok()) {
      return r.error().Wrap(where);
    }
    CR_RETURN_IF_ERROR(ApplyRoot(dir.get(), config.root, privileged, staging_path));
    if (::syncfs(dir.get()) < 0) {
      return Error::FromErrno(errno, "sync restored volume " + staging_path);
    }
  }
  bool swapped = false;
  CR_RETURN_IF_ERROR(Install(parent_fd.get(), staging, target.name, swapped));
  if (!swapped) {
    remove_staging.Dismiss();  // the staging name is gone; nothing is left to remove
  }
  // After a swap the staging name holds the old content, removed by the cleanup.
  if (::fsync(parent_fd.get()) < 0) {
    return Error::FromErrno(errno, "sync directory " + target.parent);
  }
  if (!options.state_dir.empty()) {
    CR_RETURN_IF_ERROR(
        WriteRestoredIndex(target_dir, options, manifest_digest, manifest, config));
  }
  return result;
}

}  // namespace cricket::storage::volumes
