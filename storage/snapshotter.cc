#include "storage/snapshotter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/layer_path.h"

namespace cricket::storage {
namespace {

constexpr std::string_view kTmpPrefix = ".tmp-";
constexpr size_t kMaxMountData = 4096;

bool IsValidKey(const std::string& key) {
  if (key.empty() || key.size() > 128 || key == "." || key == ".." || key.front() == '.') {
    return false;
  }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> MakeTempDir(const std::string& parent, const std::string& tag) {
  std::string pattern = parent + "/" + std::string(kTmpPrefix) + tag + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Error::FromErrno(errno, "create temporary directory in " + parent);
  }
  return pattern;
}

}  // namespace

std::string ChainId(const std::string& parent_chain_id, const std::string& diff_id) {
  if (parent_chain_id.empty()) {
    return diff_id;
  }
  return Sha256Digest(parent_chain_id + " " + diff_id);
}

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  std::string parent;
  for (const std::string& d : diff_ids) {
    parent = ChainId(parent, d);
    out.push_back(parent);
  }
  return out;
}

Result<std::unique_ptr<Snapshotter>> Snapshotter::Open(const std::string& root, Syscalls& sys,
                                                       UnpackOptions unpack) {
  if (root.find_first_of(":,") != std::string::npos) {
    return Error(Code::kInvalidArgument, "snapshot root " + root + " must not contain ':' or ','");
  }
  CR_RETURN_IF_ERROR(MakeDirs(root + "/layers", 0700));
  CR_RETURN_IF_ERROR(MakeDirs(root + "/containers", 0700));
  for (const char* sub : {"/layers", "/containers"}) {
    CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(root + sub));
    for (const std::string& name : names) {
      if (name.rfind(kTmpPrefix, 0) == 0) {
        log::Info({}, "removing leftover {}{}/{}", root, sub, name);
        CR_RETURN_IF_ERROR(RemoveAllAt(AT_FDCWD, root + sub + "/" + name));
      }
    }
  }
  return std::unique_ptr<Snapshotter>(new Snapshotter(root, sys, std::move(unpack)));
}

Result<std::string> Snapshotter::LayerDir(const std::string& chain_id) const {
  CR_ASSIGN_OR_RETURN(std::string hex, Sha256Hex(chain_id));
  return root_ + "/layers/" + hex;
}

Result<std::string> Snapshotter::SnapshotDir(const std::string& key) const {
  if (!IsValidKey(key)) {
    return Error(Code::kInvalidArgument, "invalid snapshot key \"" + key + "\"");
  }
  return root_ + "/containers/" + key;
}

bool Snapshotter::HasLayer(const std::string& chain_id) const {
  auto dir = LayerDir(chain_id);
  return dir.ok() && IsDir(*dir + "/fs");
}

Result<void> Snapshotter::ApplyLayer(const std::string& chain_id,
                                     const std::string& parent_chain_id, const std::string& diff_id,
                                     int blob_fd) {
  if (ChainId(parent_chain_id, diff_id) != chain_id) {
    return Error(Code::kInvalidArgument, "chain id " + chain_id + " does not match parent " +
                                             parent_chain_id + " and diff id " + diff_id);
  }
  CR_RETURN_IF_ERROR(LayerDir(chain_id));  // a well-formed chain ID
  if (HasLayer(chain_id)) {
    return Ok();
  }
  if (!parent_chain_id.empty() && !HasLayer(parent_chain_id)) {
    return Error(Code::kFailedPrecondition,
                 "parent layer " + parent_chain_id + " of " + chain_id + " is not unpacked");
  }
  {
    std::unique_lock lock(unpack_mu_);
    unpack_done_.wait(lock, [&] { return unpacking_.count(chain_id) == 0; });
    if (HasLayer(chain_id)) {
      return Ok();  // another caller unpacked it while we waited
    }
    unpacking_.insert(chain_id);
  }
  auto result = Unpack(chain_id, parent_chain_id, diff_id, blob_fd);
  {
    std::lock_guard lock(unpack_mu_);
    unpacking_.erase(chain_id);
  }
  unpack_done_.notify_all();
  return result;
}

Result<void> Snapshotter::Unpack(const std::string& chain_id, const std::string& parent_chain_id,
                                 const std::string& diff_id, int blob_fd) {
  CR_ASSIGN_OR_RETURN(std::string dir, LayerDir(chain_id));
  CR_ASSIGN_OR_RETURN(std::string tmp,
                      MakeTempDir(root_ + "/layers", dir.substr(dir.rfind('/') + 1, 12)));
  Cleanup remove_tmp([&] {
    auto removed = RemoveAllAt(AT_FDCWD, tmp);
    if (!removed.ok()) {
      log::Warn({}, "remove {}: {}", tmp, removed.error().ToString());
    }
  });
  if (::mkdir((tmp + "/fs").c_str(), 0755) < 0) {
    return Error::FromErrno(errno, "create " + tmp + "/fs");
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fs_fd(::open((tmp + "/fs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fs_fd.valid()) {
    return Error::FromErrno(errno, "open " + tmp + "/fs");
  }
  UnpackOptions options = unpack_;
  options.expected_diff_id = diff_id;
  auto stats = UnpackLayer(blob_fd, fs_fd.get(), options);
  if (!stats.ok()) {
    return stats.error().Wrap("unpack layer " + diff_id);
  }
  CR_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/parent", parent_chain_id, 0600));
  CR_RETURN_IF_ERROR(
      WriteFileAtomic(tmp + "/size", std::to_string(stats->uncompressed_bytes), 0600));
  CR_FAILPOINT(kSnapshotLayerUnpacked);  // complete, but only under its temporary name
  if (::rename(tmp.c_str(), dir.c_str()) < 0) {
    if ((errno == EEXIST || errno == ENOTEMPTY) && HasLayer(chain_id)) {
      return Ok();  // a concurrent pull unpacked the same layer first; ours is dropped
    }
    return Error::FromErrno(errno, "rename " + tmp + " to " + dir);
  }
  remove_tmp.Dismiss();
  FsyncDir(root_ + "/layers");
  return FailPoint(FailPointId::kSnapshotLayerCommitted);
}

Result<std::string> Snapshotter::LayerParent(const std::string& chain_id) const {
  CR_ASSIGN_OR_RETURN(std::string dir, LayerDir(chain_id));
  return ReadFile(dir + "/parent");
}

Result<std::vector<std::string>> Snapshotter::LowerDirs(const std::string& chain_id) const {
  std::vector<std::string> out;
  std::string cur = chain_id;
  while (!cur.empty()) {
    if (!HasLayer(cur)) {
      return Error(Code::kNotFound, "layer " + cur + " is not unpacked");
    }
    CR_ASSIGN_OR_RETURN(std::string dir, LayerDir(cur));
    out.push_back(dir + "/fs");
    CR_ASSIGN_OR_RETURN(cur, ReadFile(dir + "/parent"));
    if (out.size() > 1000) {
      return Error(Code::kDataLoss, "layer chain of " + chain_id + " loops");
    }
  }
  return out;
}

Result<void> Snapshotter::RemoveLayer(const std::string& chain_id) {
  CR_ASSIGN_OR_RETURN(std::string dir, LayerDir(chain_id));
  // Rename first so a crash mid-removal leaves a temporary that Open() sweeps, never a partial
  // layer under its chain ID.
  std::string doomed =
      root_ + "/layers/" + std::string(kTmpPrefix) + "rm-" + dir.substr(dir.rfind('/') + 1);
  if (::rename(dir.c_str(), doomed.c_str()) < 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    return Error::FromErrno(errno, "remove layer " + chain_id);
  }
  // Gone under its chain ID; the next PurgeRemovedLayers (GC, Open) finishes a failed removal.
  CR_FAILPOINT(kSnapshotLayerRemoveRenamed);
  return RemoveAllAt(AT_FDCWD, doomed);
}

Result<int> Snapshotter::PurgeRemovedLayers() {
  const std::string prefix = std::string(kTmpPrefix) + "rm-";
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(root_ + "/layers"));
  int purged = 0;
  for (const std::string& name : names) {
    if (name.rfind(prefix, 0) == 0) {
      CR_RETURN_IF_ERROR(RemoveAllAt(AT_FDCWD, root_ + "/layers/" + name));
      ++purged;
    }
  }
  return purged;
}

Result<std::vector<std::string>> Snapshotter::ListLayers() const {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(root_ + "/layers"));
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (n.rfind(kTmpPrefix, 0) != 0) {
      out.push_back("sha256:" + n);
    }
  }
  return out;
}

Result<void> Snapshotter::Prepare(const std::string& key, const std::string& chain_id) {
  CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
  if (IsDir(dir)) {
    return Error(Code::kAlreadyExists, "snapshot " + key + " already exists");
  }
  CR_RETURN_IF_ERROR(LowerDirs(chain_id));
  CR_ASSIGN_OR_RETURN(std::string tmp, MakeTempDir(root_ + "/containers", key.substr(0, 12)));
  Cleanup remove_tmp([&] { (void)RemoveAllAt(AT_FDCWD, tmp); });
  if (::mkdir((tmp + "/upper").c_str(), 0755) < 0 || ::mkdir((tmp + "/work").c_str(), 0700) < 0) {
    return Error::FromErrno(errno, "create snapshot directories in " + tmp);
  }
  CR_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/parent", chain_id, 0600));
  if (::rename(tmp.c_str(), dir.c_str()) < 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return Error(Code::kAlreadyExists, "snapshot " + key + " already exists");
    }
    return Error::FromErrno(errno, "rename " + tmp + " to " + dir);
  }
  remove_tmp.Dismiss();
  FsyncDir(root_ + "/containers");
  return Ok();
}

Result<std::string> Snapshotter::SnapshotParent(const std::string& key) const {
  CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
  auto parent = ReadFile(dir + "/parent");
  if (!parent.ok() && parent.error().code() == Code::kNotFound) {
    return Error(Code::kNotFound, "snapshot " + key + " not found");
  }
  return parent;
}

Result<DiskUsage> Snapshotter::Usage(const std::string& key) const {
  CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
  auto usage = MeasureDiskUsage(dir + "/upper");
  if (!usage.ok() && usage.error().code() == Code::kNotFound) {
    return Error(Code::kNotFound, "snapshot " + key + " not found");
  }
  return usage;
}

Result<OverlayMount> Snapshotter::Mounts(const std::string& key) const {
  CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
  CR_ASSIGN_OR_RETURN(std::string parent, SnapshotParent(key));
  CR_ASSIGN_OR_RETURN(std::vector<std::string> lowers, LowerDirs(parent));
  OverlayMount m;
  m.lower_dirs = std::move(lowers);
  m.upper_dir = dir + "/upper";
  m.work_dir = dir + "/work";
  m.userxattr = unpack_.overlay_xattr_prefix == "user.overlay.";
  const std::string options = OverlayOptions(m);
  // mount(2) copies one page of options; a longer string would be cut, not refused.
  if (options.size() >= kMaxMountData) {
    return Error(Code::kResourceExhausted,
                 "overlay options of snapshot " + key + " need " + std::to_string(options.size()) +
                     " bytes for " + std::to_string(m.lower_dirs.size()) +
                     " layers, more than the " + std::to_string(kMaxMountData - 1) +
                     " the kernel takes");
  }
  return m;
}

Result<void> Snapshotter::Mount(const std::string& key, const std::string& target,
                                const std::optional<SnapshotIdmap>& idmap) {
  CR_ASSIGN_OR_RETURN(OverlayMount m, Mounts(key));
  if (!idmap) {
    auto mounted = sys_.Mount(m.source, target, m.fstype, 0, OverlayOptions(m));
    if (!mounted.ok()) {
      return mounted.error().Wrap("mount snapshot " + key);
    }
    return Ok();
  }
  CR_ASSIGN_OR_RETURN(IdmappedOverlay mapped, IdmapOverlay(m, *idmap));
  auto mounted = sys_.Mount(m.source, target, m.fstype, 0, OverlayOptions(mapped.mount));
  if (!mounted.ok() && mounted.error().sys_errno() == EINVAL) {
    // An older overlayfs refuses the detached copies (overlay_mount.h AttachedLayers).
    CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
    CR_ASSIGN_OR_RETURN(AttachedLayers attached,
                        AttachedLayers::Attach(mapped.layers, dir + "/idmapped"));
    mapped.mount.lower_dirs = attached.paths();
    mounted = sys_.Mount(m.source, target, m.fstype, 0, OverlayOptions(mapped.mount));
  }
  if (!mounted.ok()) {
    return mounted.error().Wrap("mount snapshot " + key + " with idmapped layers");
  }
  return Ok();
}

Result<void> Snapshotter::Unmount(const std::string& target) {
  auto r = sys_.Umount2(target, MNT_DETACH);
  if (!r.ok() && (r.error().sys_errno() == EINVAL || r.error().sys_errno() == ENOENT)) {
    return Ok();  // nothing mounted there
  }
  return r;
}

Result<void> Snapshotter::Remove(const std::string& key) {
  CR_ASSIGN_OR_RETURN(std::string dir, SnapshotDir(key));
  std::string doomed = root_ + "/containers/" + std::string(kTmpPrefix) + "rm-" + key;
  if (::rename(dir.c_str(), doomed.c_str()) < 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    return Error::FromErrno(errno, "remove snapshot " + key);
  }
  return RemoveAllAt(AT_FDCWD, doomed);
}

Result<std::vector<std::string>> Snapshotter::ListSnapshots() const {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(root_ + "/containers"));
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (n.rfind(kTmpPrefix, 0) != 0) {
      out.push_back(n);
    }
  }
  return out;
}

}  // namespace cricket::storage
