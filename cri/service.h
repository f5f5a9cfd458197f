#pragma once

// CriService: the transport-free handlers of the CRI RuntimeService and ImageService. Each
// method validates the request, looks up what it needs, calls the modules and fills the
// response; cri/grpc_adapter.cc is the only code that knows about gRPC. Thread-safe.
//
// The RPCs that have no handler yet are answered UNIMPLEMENTED by the adapter.

#include <chrono>
#include <functional>
#include <memory>

#include "common/config.h"
#include "common/result.h"
#include "cri/metadata_store.h"
#include "network/network_manager.h"
#include "oci/cgroup_detect.h"
#include "runtime/v1/api.pb.h"
#include "storage/image_store.h"

namespace cricket::cri {

namespace v1 = ::runtime::v1;

// What the handlers work with; owned by the daemon, outliving the service.
struct CriDeps {
  const Config* config = nullptr;
  MetadataStore* store = nullptr;
  // What the daemon detected at start-up, or the error it got.
  Result<oci::CgroupInfo> cgroups = Error(Code::kUnavailable, "cgroups not detected");
  // The pod network, or the error that kept it from being set up.
  Result<network::NetworkManager*> network = Error(Code::kUnavailable, "no pod network");
  storage::ImageStore* images = nullptr;
};

// When the caller gives up; Deadline::max() without one.
using Deadline = std::chrono::steady_clock::time_point;

class CriService {
 public:
  explicit CriService(CriDeps deps) : deps_(std::move(deps)) {}

  // runtime_status.cc
  Result<void> Version(const v1::VersionRequest& req, v1::VersionResponse& resp);
  Result<void> Status(const v1::StatusRequest& req, v1::StatusResponse& resp);
  Result<void> RuntimeConfig(const v1::RuntimeConfigRequest& req, v1::RuntimeConfigResponse& resp);

  // image_pull.cc
  Result<void> PullImage(const v1::PullImageRequest& req, v1::PullImageResponse& resp,
                         Deadline deadline);
  // image_status.cc
  Result<void> ImageStatus(const v1::ImageStatusRequest& req, v1::ImageStatusResponse& resp);
  Result<void> ListImages(const v1::ListImagesRequest& req, v1::ListImagesResponse& resp);
  // image_remove.cc
  Result<void> RemoveImage(const v1::RemoveImageRequest& req, v1::RemoveImageResponse& resp);
  // image_fs_info.cc
  Result<void> ImageFsInfo(const v1::ImageFsInfoRequest& req, v1::ImageFsInfoResponse& resp);

 private:
  // OK when containers can be run: the store answers and the cgroup hierarchy is known.
  Result<void> RuntimeReady();
  // OK when pods can get a network.
  Result<void> NetworkReady();

  CriDeps deps_;
};

// The CRI view of an image (image_status.cc).
void ToCriImage(const storage::Image& image, v1::Image& out);

}  // namespace cricket::cri
