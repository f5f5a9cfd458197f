#pragma once

// One-call wrappers over cricketd's CRI RuntimeService/ImageService and the admin Volumes
// service, for integration tests: each fills the request, makes the call with a fresh
// ClientContext and returns its status (ids and responses through out-parameters). They add no
// gtest assertions, so a test decides what a failure means.

#include <cstdint>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "runtime/v1/api.grpc.pb.h"

namespace cricket::testing {

// A pod `name` in namespace "default" with uid "uid-<name>", hostname `name` and its logs under
// `log_dir`/<name>.
::runtime::v1::PodSandboxConfig MakePodConfig(const std::string& name, const std::string& log_dir);

// A container `name` running `/bin/sh -c script` as root from `image`, logging to <name>.log,
// with `host_path` bind-mounted at /data unless it is empty.
::runtime::v1::ContainerConfig MakeShellContainer(const std::string& name, const std::string& image,
                                                  const std::string& script,
                                                  const std::string& host_path = "");

grpc::Status PullImage(::runtime::v1::ImageService::Stub& images, const std::string& image);
grpc::Status RunPod(::runtime::v1::RuntimeService::Stub& runtime,
                    const ::runtime::v1::PodSandboxConfig& config, std::string* id);
// StopPodSandbox, then RemovePodSandbox.
grpc::Status StopAndRemovePod(::runtime::v1::RuntimeService::Stub& runtime, const std::string& pod);
// StopAndRemovePod for every pod the runtime lists; the first error.
grpc::Status RemoveAllPods(::runtime::v1::RuntimeService::Stub& runtime);
grpc::Status CreateContainer(::runtime::v1::RuntimeService::Stub& runtime, const std::string& pod,
                             const ::runtime::v1::PodSandboxConfig& pod_config,
                             const ::runtime::v1::ContainerConfig& config, std::string* id);
grpc::Status StartContainer(::runtime::v1::RuntimeService::Stub& runtime, const std::string& id);
// ExecSync of `/bin/sh -c script`.
grpc::Status ExecShell(::runtime::v1::RuntimeService::Stub& runtime, const std::string& id,
                       const std::string& script, int64_t timeout_s,
                       ::runtime::v1::ExecSyncResponse* resp);
// The number of containers the runtime lists, or -1 when the call fails.
int CountContainers(::runtime::v1::RuntimeService::Stub& runtime);

// The admin row of volume `name`: nullopt when the node does not know it or the call failed
// (`status`, when given, tells which).
std::optional<::cricket::admin::v1::Volume> FindVolume(::cricket::admin::v1::Volumes::Stub& admin,
                                                       const std::string& name,
                                                       grpc::Status* status = nullptr);
grpc::Status SnapshotVolume(::cricket::admin::v1::Volumes::Stub& admin, const std::string& name,
                            ::cricket::admin::v1::SnapshotVolumeResponse* resp);

}  // namespace cricket::testing
