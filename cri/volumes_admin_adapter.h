#pragma once

// The gRPC face of VolumesAdmin, registered on cricketd's socket beside the CRI services. Like
// cri/grpc_adapter.{h,cc} (whose ToGrpc it uses), the only admin code that sees gRPC types.

#include <grpcpp/grpcpp.h>

#include "cri/inflight_calls.h"
#include "cri/volumes_admin.h"
#include "cricket/admin/v1/volumes.grpc.pb.h"

namespace cricket::cri {

class VolumesAdminAdapter final : public admin::Volumes::Service {
 public:
  VolumesAdminAdapter(VolumesAdmin& admin, InflightCalls& calls) : admin_(admin), calls_(calls) {}

  grpc::Status List(grpc::ServerContext* ctx, const admin::ListVolumesRequest* req,
                    admin::ListVolumesResponse* resp) override;
  grpc::Status Inspect(grpc::ServerContext* ctx, const admin::InspectVolumeRequest* req,
                       admin::InspectVolumeResponse* resp) override;
  grpc::Status Snapshot(grpc::ServerContext* ctx, const admin::SnapshotVolumeRequest* req,
                        admin::SnapshotVolumeResponse* resp) override;
  grpc::Status Release(grpc::ServerContext* ctx, const admin::ReleaseVolumeRequest* req,
                       admin::ReleaseVolumeResponse* resp) override;

 private:
  VolumesAdmin& admin_;
  InflightCalls& calls_;
};

}  // namespace cricket::cri
