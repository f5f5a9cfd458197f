#pragma once

// Snapshotter: overlayfs snapshots of image layers and container root filesystems.
//
// Layout under its root directory:
//   layers/<chain-hex>/fs       one unpacked layer, shared by every image that has this chain
//   layers/<chain-hex>/parent   the parent's chain ID ("" for a base layer)
//   layers/<chain-hex>/size     bytes of the uncompressed layer
//   containers/<key>/upper, work, parent   a container's writable layer over a layer chain
// A layer is unpacked into a temporary directory and renamed into place, so a crash never leaves
// a half-unpacked layer under its chain ID; Open() removes leftover temporaries.
//
// Which calls go through the Syscalls seam, and why:
//   - mount(2) and umount2(2), the calls that change the mount table, go through `sys_`: the
//     unit tests (tests/unit/storage/snapshotter_test.cc) check them with a mock, without root.
//   - Work on the files under root() (mkdir, rename, open, fsync, the layer unpack) uses raw
//     calls: it needs no privilege, and the unit tests run it for real in a temporary root.
//   - The id-mapped mount's open_tree/mount_setattr and chown (storage/overlay_mount.h) use raw
//     calls: they need root, and the root tests cover them (tests/integration/cri/
//     pod_users_test.cc); its options are built by pure functions the unit tests check.
// Thread-safe: every operation works on its own directories and publishes with rename(2);
// concurrent ApplyLayer calls for one chain in this process unpack it once (the others wait).

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "storage/disk_usage.h"
#include "storage/layer_unpack.h"
#include "storage/overlay_mount.h"

namespace cricket::storage {

// OCI image-spec: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
std::string ChainId(const std::string& parent_chain_id, const std::string& diff_id);
// The chain IDs of every prefix of `diff_ids`.
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

class Snapshotter {
 public:
  // Creates <root>/layers and <root>/containers; sweeps temporaries of interrupted unpacks.
  // `unpack` sets privilege and the overlay xattr prefix for every layer.
  static Result<std::unique_ptr<Snapshotter>> Open(const std::string& root, Syscalls& sys,
                                                   UnpackOptions unpack);

  const std::string& root() const { return root_; }
  bool HasLayer(const std::string& chain_id) const;
  // Unpacks the layer blob `blob_fd` as `chain_id` on top of `parent_chain_id` ("" for a base
  // layer), checking its uncompressed digest against `diff_id`. OK without work when the layer
  // exists. kFailedPrecondition when the parent layer is missing; unpack errors as UnpackLayer.
  Result<void> ApplyLayer(const std::string& chain_id, const std::string& parent_chain_id,
                          const std::string& diff_id, int blob_fd);
  // The unpacked directories of a chain, top first. kNotFound when any layer is missing.
  Result<std::vector<std::string>> LowerDirs(const std::string& chain_id) const;
  // Removes a layer. OK when absent. The caller makes sure no chain uses it any more.
  Result<void> RemoveLayer(const std::string& chain_id);
  Result<std::vector<std::string>> ListLayers() const;
  // Finishes layer removals interrupted after the rename (an error, not a crash: Open sweeps
  // those). Returns how many it finished. The caller serialises it with RemoveLayer.
  Result<int> PurgeRemovedLayers();
  // The parent chain ID of a layer ("" for a base layer).
  Result<std::string> LayerParent(const std::string& chain_id) const;

  // Creates the writable snapshot `key` (a container id: [A-Za-z0-9_.-]+) over the layer chain
  // `chain_id`. kAlreadyExists when it exists, kNotFound when the chain is incomplete,
  // kInvalidArgument for a bad key.
  Result<void> Prepare(const std::string& key, const std::string& chain_id);
  // The overlay mount of snapshot `key`. kNotFound for an unknown key; kResourceExhausted when
  // the chain is too long for one page of mount options.
  Result<OverlayMount> Mounts(const std::string& key) const;
  // Mounts snapshot `key` on `target` (an existing directory); with `idmap`, as seen from that
  // user namespace (IdmapOverlay in storage/overlay_mount.h, errors as there).
  Result<void> Mount(const std::string& key, const std::string& target,
                     const std::optional<SnapshotIdmap>& idmap = std::nullopt);
  // Unmounts `target`. OK when nothing is mounted there.
  Result<void> Unmount(const std::string& target);
  // Removes snapshot `key` (unmount it first). OK for an unknown key.
  Result<void> Remove(const std::string& key);
  Result<std::vector<std::string>> ListSnapshots() const;
  // Bytes and inodes of the writable layer of snapshot `key` (CRI ContainerStats). kNotFound for
  // an unknown key.
  Result<DiskUsage> Usage(const std::string& key) const;
  // The chain ID snapshot `key` sits on.
  Result<std::string> SnapshotParent(const std::string& key) const;

 private:
  Snapshotter(std::string root, Syscalls& sys, UnpackOptions unpack)
      : root_(std::move(root)), sys_(sys), unpack_(std::move(unpack)) {}
  Result<std::string> LayerDir(const std::string& chain_id) const;
  Result<std::string> SnapshotDir(const std::string& key) const;
  Result<void> Unpack(const std::string& chain_id, const std::string& parent_chain_id,
                      const std::string& diff_id, int blob_fd);

  std::string root_;
  Syscalls& sys_;
  UnpackOptions unpack_;
  std::mutex unpack_mu_;
  std::condition_variable unpack_done_;
  std::set<std::string> unpacking_;  // Guarded by unpack_mu_. Chain IDs being unpacked.
};

}  // namespace cricket::storage
