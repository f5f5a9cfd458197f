#pragma once

// PortableVolumes: the portable-volume calls the container and sandbox handlers make (issue
// #7) — attach a container, publish its volumes when it stops, detach a container or a whole
// pod. The daemon wires storage::VolumeManager's (NewVolumeManagerVolumes); unit tests of the
// handlers wire a fake (tests/unit/cri/fake_storage.h). The operator's admin service
// (cri/volumes_admin.h) keeps using VolumeManager directly.

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/volumes/volume_manager.h"

namespace cricket::cri {

// Thread-safe. Semantics and errors as storage::VolumeManager's calls of the same names.
class PortableVolumes {
 public:
  virtual ~PortableVolumes() = default;
  // The working copy of `volume` for container `ctr` of pod `pod`.
  virtual Result<std::string> Attach(const std::string& volume, const std::string& pod,
                                     const std::string& ctr) = 0;
  // Drops `ctr` from every volume it uses; `publish` false (a failed create rolling back)
  // releases the last user's lease without a snapshot.
  virtual Result<void> DetachContainer(const std::string& ctr, bool publish) = 0;
  virtual Result<void> DetachPod(const std::string& pod) = 0;
  // Publishes every volume `ctr` uses (it stopped).
  virtual Result<void> SnapshotContainer(const std::string& ctr) = 0;
  virtual std::vector<storage::AttachedVolume> AttachedToPod(const std::string& pod) const = 0;
};

// The volumes of `manager` (which outlives the result).
std::unique_ptr<PortableVolumes> NewVolumeManagerVolumes(storage::VolumeManager& manager);

}  // namespace cricket::cri
