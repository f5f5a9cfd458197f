#include "storage/overlay_mount.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/idmapped_tree.h"

namespace cricket::storage {
namespace {

// The host id of id 0 in `mappings`.
Result<uint32_t> RootHostId(const std::vector<IdMapping>& mappings, const char* field) {
  for (const IdMapping& m : mappings) {
    if (m.container_id == 0 && m.size > 0) {
      return m.host_id;
    }
  }
  return Error(Code::kInvalidArgument, std::string(field) + ": no range maps id 0");
}

}  // namespace

std::string OverlayOptions(const OverlayMount& m) {
  std::string options = "lowerdir=";
  for (size_t i = 0; i < m.lower_dirs.size(); ++i) {
    options += (i == 0 ? "" : ":") + m.lower_dirs[i];
  }
  options += ",upperdir=" + m.upper_dir + ",workdir=" + m.work_dir;
  if (m.userxattr) {
    options += ",userxattr";
  }
  return options;
}

Result<HostIds> NamespaceRoot(const SnapshotIdmap& idmap) {
  CR_ASSIGN_OR_RETURN(uint32_t uid, RootHostId(idmap.uid_mappings, "uid_mappings"));
  CR_ASSIGN_OR_RETURN(uint32_t gid, RootHostId(idmap.gid_mappings, "gid_mappings"));
  return HostIds{uid, gid};
}

std::vector<std::string> LayerFdPaths(const std::vector<UniqueFd>& layers) {
  std::vector<std::string> paths;
  paths.reserve(layers.size());
  for (const UniqueFd& fd : layers) {
    paths.push_back("/proc/self/fd/" + std::to_string(fd.get()));
  }
  return paths;
}

Result<IdmappedOverlay> IdmapOverlay(const OverlayMount& m, const SnapshotIdmap& idmap) {
  CR_ASSIGN_OR_RETURN(HostIds root, NamespaceRoot(idmap));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd userns_fd(::open(idmap.userns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns_fd.valid()) {
    return Error::FromErrno(errno, "open the user namespace " + idmap.userns_path);
  }
  IdmappedOverlay out{.mount = m, .layers = {}};
  for (const std::string& dir : m.lower_dirs) {
    CR_ASSIGN_OR_RETURN(UniqueFd tree, IdmappedTree(dir, userns_fd.get()));
    out.layers.push_back(std::move(tree));
  }
  out.mount.lower_dirs = LayerFdPaths(out.layers);
  if (::chown(m.upper_dir.c_str(), root.uid, root.gid) < 0) {
    return Error::FromErrno(errno, "chown the snapshot's upper directory " + m.upper_dir);
  }
  return out;
}

Result<AttachedLayers> AttachedLayers::Attach(const std::vector<UniqueFd>& layers,
                                              const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
    return Error::FromErrno(errno, "mkdir " + dir);
  }
  AttachedLayers out(dir);
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string target = dir + "/" + std::to_string(i);
    if (::mkdir(target.c_str(), 0700) < 0 && errno != EEXIST) {
      return Error::FromErrno(errno, "mkdir " + target);
    }
    if (::syscall(SYS_move_mount, layers[i].get(), "", AT_FDCWD, target.c_str(),
                  MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      int err = errno;
      ::rmdir(target.c_str());
      return Error::FromErrno(err, "attach an id-mapped layer at " + target);
    }
    out.paths_.push_back(std::move(target));
  }
  return out;
}

AttachedLayers::~AttachedLayers() {
  for (const std::string& path : paths_) {
    ::umount2(path.c_str(), MNT_DETACH);
    ::rmdir(path.c_str());
  }
  if (!dir_.empty()) {
    ::rmdir(dir_.c_str());
  }
}

}  // namespace cricket::storage
