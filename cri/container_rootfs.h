#pragma once

// ContainerRootfs: what the container handlers need of images and snapshots — the image a
// container runs from, and its writable rootfs snapshot (prepared, mounted, unmounted,
// removed, measured). The daemon wires the image store's (NewImageStoreRootfs); unit tests of
// the handlers wire a fake (tests/unit/cri/fake_storage.h), so CreateContainer's rollback is
// tested without root. The image RPCs (PullImage, ImageStatus, ...) use storage::ImageStore
// directly: they are its front, with nothing to decide that a fake would help test.

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "storage/disk_usage.h"
#include "storage/image.h"
#include "storage/overlay_mount.h"

namespace cricket::storage {
class ImageStore;
}

namespace cricket::cri {

// Thread-safe. Errors as storage::ImageStore::Status and storage::Snapshotter's calls.
class ContainerRootfs {
 public:
  virtual ~ContainerRootfs() = default;
  // The pulled image `ref_or_id`; kNotFound when there is none.
  virtual Result<storage::Image> FindImage(const std::string& ref_or_id) const = 0;
  // The writable snapshot `id` over the layer chain `chain_id`.
  virtual Result<void> Prepare(const std::string& id, const std::string& chain_id) = 0;
  // Snapshot `id` mounted on the directory `target`; with `idmap`, as seen from that user
  // namespace.
  virtual Result<void> Mount(const std::string& id, const std::string& target,
                             const std::optional<storage::SnapshotIdmap>& idmap) = 0;
  // OK when nothing is mounted on `target`.
  virtual Result<void> Unmount(const std::string& target) = 0;
  // OK for an unknown id (unmount first).
  virtual Result<void> Remove(const std::string& id) = 0;
  // The writable layer's bytes and inodes (ContainerStats).
  virtual Result<storage::DiskUsage> Usage(const std::string& id) const = 0;
  // The writable layer's directory (overlayfs upperdir): a checkpoint packs it as the rootfs
  // diff, a restore unpacks the diff into it before the mount. kUnimplemented by default.
  virtual Result<std::string> UpperDir(const std::string& /*id*/) const {
    return Error(Code::kUnimplemented, "no writable layer directory");
  }
};

// Images and snapshots of `images` (which outlives the result).
std::unique_ptr<ContainerRootfs> NewImageStoreRootfs(storage::ImageStore& images);

}  // namespace cricket::cri
