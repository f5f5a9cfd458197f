#include "cri/volumes_admin_adapter.h"

#include <exception>
#include <string_view>

#include "common/log.h"
#include "cri/grpc_adapter.h"

namespace cricket::cri {
namespace {

template <typename Call>
grpc::Status Serve(InflightCalls& calls, std::string_view rpc, Call&& call) {
  if (!calls.Enter()) {
    return {grpc::StatusCode::UNAVAILABLE, "cricketd is shutting down"};
  }
  struct Leave {
    InflightCalls& calls;
    ~Leave() { calls.Exit(); }
  } leave{calls};
  log::Fields fields{.rpc = rpc};
  Result<void> result = Ok();
  try {
    result = call();
  } catch (const std::exception& e) {
    result = Error(Code::kInternal, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    result = Error(Code::kInternal, "unexpected exception");
  }
  if (!result.ok()) {
    log::Error(fields, "{}", result.error().ToString());
    return ToGrpc(result.error());
  }
  return grpc::Status::OK;
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
