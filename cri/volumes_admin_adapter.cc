#include "cri/volumes_admin_adapter.h"

#include <string_view>
#include <utility>

#include "common/log.h"
#include "cri/grpc_adapter.h"

namespace cricket::cri {
namespace {

template <typename Call>
grpc::Status Serve(InflightCalls& calls, std::string_view rpc, Call&& call) {
  return ServeCall(calls, log::Fields{.rpc = rpc}, std::forward<Call>(call));
}

}  // namespace

grpc::Status VolumesAdminAdapter::List(grpc::ServerContext* /*ctx*/,
                                       const admin::ListVolumesRequest* req,
                                       admin::ListVolumesResponse* resp) {
  return Serve(calls_, "admin.Volumes/List", [&] { return admin_.List(*req, *resp); });
}

grpc::Status VolumesAdminAdapter::Inspect(grpc::ServerContext* /*ctx*/,
                                          const admin::InspectVolumeRequest* req,
                                          admin::InspectVolumeResponse* resp) {
  return Serve(calls_, "admin.Volumes/Inspect", [&] { return admin_.Inspect(*req, *resp); });
}

grpc::Status VolumesAdminAdapter::Snapshot(grpc::ServerContext* /*ctx*/,
                                           const admin::SnapshotVolumeRequest* req,
                                           admin::SnapshotVolumeResponse* resp) {
  return Serve(calls_, "admin.Volumes/Snapshot", [&] { return admin_.Snapshot(*req, *resp); });
}

grpc::Status VolumesAdminAdapter::Release(grpc::ServerContext* /*ctx*/,
                                          const admin::ReleaseVolumeRequest* req,
                                          admin::ReleaseVolumeResponse* resp) {
  return Serve(calls_, "admin.Volumes/Release", [&] { return admin_.Release(*req, *resp); });
}

}  // namespace cricket::cri
