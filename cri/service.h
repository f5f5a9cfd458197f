#pragma once

// CriService: the transport-free handlers of the CRI RuntimeService and ImageService. Each
// method validates the request, looks up what it needs, calls the modules and fills the
// response; cri/grpc_adapter.cc is the only code that knows about gRPC. Thread-safe.
//
// The RPCs that have no handler yet are answered UNIMPLEMENTED by the adapter.

#include <memory>

#include "common/config.h"
#include "common/result.h"
#include "cri/metadata_store.h"
#include "network/network_manager.h"
#include "oci/cgroup_detect.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

namespace v1 = ::runtime::v1;

class CriService {
 public:
  // `cgroups` is what the daemon detected at start-up, or the error it got; `network` is the
  // pod network, or the error that kept it from being set up.
  CriService(const Config& config, MetadataStore& store, Result<oci::CgroupInfo> cgroups,
             Result<network::NetworkManager*> network);

  // runtime_status.cc
  Result<void> Version(const v1::VersionRequest& req, v1::VersionResponse& resp);
  Result<void> Status(const v1::StatusRequest& req, v1::StatusResponse& resp);
  Result<void> RuntimeConfig(const v1::RuntimeConfigRequest& req, v1::RuntimeConfigResponse& resp);

 private:
  // OK when containers can be run: the store answers and the cgroup hierarchy is known.
  Result<void> RuntimeReady();
  // OK when pods can get a network.
  Result<void> NetworkReady();

  const Config& config_;
  MetadataStore& store_;
  Result<oci::CgroupInfo> cgroups_;
  Result<network::NetworkManager*> network_;
};

}  // namespace cricket::cri
