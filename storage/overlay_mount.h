#pragma once

// The overlay mount of a snapshot, typed: its layers, upper and work directories, and the
// options string mount(2) takes built from them in one place. For a pod with its own user
// namespace (CRI userns_options POD) the same mount is made id-mapped: each lower layer is an
// id-mapped copy of the layer (overlayfs takes id-mapped layers; an overlay mount itself cannot
// be idmapped) and the empty upper directory belongs to the namespace's root, so what the
// container writes lands as its mapped ids (what containerd does).
//
// OverlayOptions, LayerFdPaths and NamespaceRoot are pure (unit-tested); IdmapOverlay needs
// root and is covered by tests/integration/cri/pod_users_test.cc (PodUserNamespace).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::storage {

struct OverlayMount {
  std::string source = "overlay";
  std::string fstype = "overlay";
  std::vector<std::string> lower_dirs;  // top first
  std::string upper_dir;
  std::string work_dir;
  bool userxattr = false;  // trusted.overlay.* xattrs are off limits (an unprivileged node)
};

// "lowerdir=<top>:...:<base>,upperdir=...,workdir=...[,userxattr]". The kernel limits mount
// data to one page: about 40 layers with a root of /var/lib/cricket/snapshots.
std::string OverlayOptions(const OverlayMount& m);

// One range of a user namespace's uid or gid map: `size` ids from `container_id` inside are the
// ids from `host_id` outside (runtime-spec linux.uidMappings; CRI IDMapping).
struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

// The user namespace a snapshot is seen from.
struct SnapshotIdmap {
  std::string userns_path;              // its file, e.g. /proc/<pid>/ns/user of a process in it
  std::vector<IdMapping> uid_mappings;  // its maps (only id 0's range is used here)
  std::vector<IdMapping> gid_mappings;
};

struct HostIds {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The host ids the namespace's root (id 0) has: they own the upper directory.
// kInvalidArgument naming uid_mappings or gid_mappings when no range maps id 0.
Result<HostIds> NamespaceRoot(const SnapshotIdmap& idmap);

// /proc/self/fd/<fd> of each layer fd, in order: lower_dirs that overlayfs resolves to the
// detached id-mapped copies.
std::vector<std::string> LayerFdPaths(const std::vector<UniqueFd>& layers);

// `m` with its lower layers id-mapped through the namespace and its upper directory chowned to
// the namespace's root; `layers` holds the copies until the overlay is mounted.
struct IdmappedOverlay {
  OverlayMount mount;
  std::vector<UniqueFd> layers;
};

// kInvalidArgument as NamespaceRoot (checked before anything changes); the open's errno for
// the namespace file; IdmappedTree's errors (common/idmapped_tree.h) for a layer; chown's errno
// for the upper directory.
Result<IdmappedOverlay> IdmapOverlay(const OverlayMount& m, const SnapshotIdmap& idmap);

// The id-mapped copies attached at <dir>/0, <dir>/1, ... (move_mount): overlayfs before Linux
// 6.x takes no detached mount as a layer (EINVAL; seen on Debian's 6.1 in hack/vm), an attached
// one it does, as containerd attaches them. Once the overlay is mounted it holds its own clones
// of the layers: dropping this detaches the copies (MNT_DETACH) and removes `dir`.
class AttachedLayers {
 public:
  static Result<AttachedLayers> Attach(const std::vector<UniqueFd>& layers,
                                       const std::string& dir);
  AttachedLayers(AttachedLayers&& other) noexcept
      : dir_(std::move(other.dir_)), paths_(std::move(other.paths_)) {
    other.dir_.clear();
    other.paths_.clear();
  }
  AttachedLayers& operator=(AttachedLayers&&) = delete;
  AttachedLayers(const AttachedLayers&) = delete;
  AttachedLayers& operator=(const AttachedLayers&) = delete;
  ~AttachedLayers();
  // The attach points, in the order of the layers: lower_dirs for the overlay.
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  explicit AttachedLayers(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::vector<std::string> paths_;
};

}  // namespace cricket::storage
