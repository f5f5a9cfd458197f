#pragma once

// Restoring a container in CreateContainer (CRI-O's behaviour): when the config's image names
// a checkpoint archive (an absolute path to a file, cri/checkpoint_archive.h), the archive is
// unpacked, the container is created from the image it ran from with its command and env
// (RestoredConfig), its rootfs diff is applied to the new writable layer before the mount, and
// its shim restores the process with CRIU instead of creating it (`--restore-from`): the
// container then runs from CreateContainer on; StartContainer only marks it started.

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "cri/checkpoint_archive.h"
#include "cri/container_rootfs.h"
#include "cri/service.h"

namespace cricket::cri {

class RestoreSource {
 public:
  // A source over an unpacked tree; `owned` removes it when the source goes.
  RestoreSource(ContainerCheckpoint checkpoint, v1::ContainerConfig config, bool owned)
      : checkpoint_(std::move(checkpoint)), config_(std::move(config)), owned_(owned) {}
  RestoreSource(const RestoreSource&) = delete;
  RestoreSource& operator=(const RestoreSource&) = delete;
  ~RestoreSource();

  // The config to create the container with.
  const v1::ContainerConfig& config() const { return config_; }
  // The CRIU images for the shim.
  std::string images_dir() const { return checkpoint_.images_dir(); }
  // Applies the rootfs diff to snapshot `id` (prepared, not mounted yet).
  Result<void> ApplyTo(ContainerRootfs& rootfs, const std::string& id) const;

 private:
  ContainerCheckpoint checkpoint_;
  v1::ContainerConfig config_;
  bool owned_;
};

// nullptr when `request`'s image is not a checkpoint archive. Otherwise unpacks it under
// <root>/checkpoints (kInvalidArgument naming what is wrong with it) and, before anything else,
// kFailedPrecondition when CRIU cannot restore here.
Result<std::unique_ptr<RestoreSource>> OpenRestoreSource(const CriDeps& deps,
                                                         const v1::ContainerConfig& request);

// A container tree already unpacked (RestorePod's), not removed by the source.
Result<std::unique_ptr<RestoreSource>> RestoreSourceFromDir(const std::string& dir,
                                                            const v1::ContainerConfig& request);

}  // namespace cricket::cri
