#pragma once

// VolumesAdmin: the transport-free handlers of cricket.admin.v1.Volumes (cricketctl volumes).
// cri/volumes_admin_adapter.cc serves them over gRPC. Thread-safe.

#include "common/result.h"
#include "cricket/admin/v1/volumes.pb.h"
#include "storage/volumes/volume_manager.h"

namespace cricket::cri {

namespace admin = ::cricket::admin::v1;

class VolumesAdmin {
 public:
  explicit VolumesAdmin(storage::VolumeManager& volumes) : volumes_(volumes) {}

  Result<void> List(const admin::ListVolumesRequest& req, admin::ListVolumesResponse& resp);
  // kNotFound when neither the coordinator nor this node knows the volume.
  Result<void> Inspect(const admin::InspectVolumeRequest& req,
                       admin::InspectVolumeResponse& resp);
  Result<void> Snapshot(const admin::SnapshotVolumeRequest& req,
                        admin::SnapshotVolumeResponse& resp);
  Result<void> Release(const admin::ReleaseVolumeRequest& req,
                       admin::ReleaseVolumeResponse& resp);

 private:
  storage::VolumeManager& volumes_;
};

}  // namespace cricket::cri
