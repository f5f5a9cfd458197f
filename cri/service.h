#pragma once

// CriService: the transport-free handlers of the CRI RuntimeService and ImageService. Each
// method validates the request, looks up what it needs, calls the modules and fills the
// response; cri/grpc_adapter.cc is the only code that knows about gRPC. Thread-safe.
//
// The RPCs that have no handler yet are answered UNIMPLEMENTED by the adapter.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "common/result.h"
#include "common/syscalls.h"
#include "cri/apparmor_profiles.h"
#include "cri/chunked_stream.h"
#include "cri/config.h"
#include "cri/container_rootfs.h"
#include "cri/decoded_records.h"
#include "cri/event_broker.h"
#include "cri/exit_watcher.h"
#include "cri/keyed_mutex.h"
#include "cri/metadata_store.h"
#include "cri/metrics_collect.h"
#include "cri/object_info.h"
#include "cri/portable_volumes.h"
#include "cri/shim_access.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/streaming_server.h"
#include "network/network_manager.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_manager.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"
#include "storage/image_store.h"

namespace cricket::cri {

namespace v1 = ::runtime::v1;

// What the handlers work with; owned by the daemon, outliving the service.
class SystemdScopes;  // cri/systemd_scopes.h
class RestoreSource;  // cri/checkpoint_restore.h
namespace prometheus {
class CriMetrics;  // cri/prometheus_metrics.h
}

struct CriDeps {
  const Config* config = nullptr;
  MetadataStore* store = nullptr;
  // What the daemon detected at start-up, or the error it got.
  Result<oci::CgroupInfo> cgroups = Error(Code::kUnavailable, "cgroups not detected");
  // The pod network, or the error that kept it from being set up.
  Result<network::PodNetworking*> network = Error(Code::kUnavailable, "no pod network");
  // The image RPCs' store (PullImage, ImageStatus, ListImages, RemoveImage, ImageFsInfo).
  storage::ImageStore* images = nullptr;
  // The container handlers' images and rootfs snapshots (NewImageStoreRootfs over `images`; a
  // fake in unit tests).
  ContainerRootfs* rootfs = nullptr;
  // Portable volumes (issue #7; NewVolumeManagerVolumes, a fake in unit tests); null when the
  // daemon runs without them.
  PortableVolumes* volumes = nullptr;
  Syscalls* sys = nullptr;
  // Serves the URLs Exec, Attach and PortForward return; set once it runs.
  streaming::StreamingServer* streaming = nullptr;
  // The lowest oom_score_adj a container may get (OomScoreAdjFloor(), read once at start-up);
  // nullopt: any.
  std::optional<int> oom_score_adj_floor;
  // AppArmor profiles of new containers (loads cricket-default on first need).
  AppArmorProfiles* apparmor = nullptr;
  // Starts container shims and connects to them (NewProcessShims; a fake in unit tests).
  ShimAccess* shims = nullptr;
  // The systemd cgroup driver's units (cri/systemd_scopes.h); null under cgroupfs.
  SystemdScopes* scopes = nullptr;
  // The infra process's binary (installed beside cricketd).
  std::string pause_binary;
  // Objects per message of the streaming lists (cri/chunked_stream.h); tests make it small.
  size_t stream_chunk_items = kDefaultStreamChunkItems;
  // [metrics] address set: where PullImage counts pulls; null when metrics are off.
  prometheus::CriMetrics* metrics = nullptr;
};

// When the caller gives up; Deadline::max() without one.
using Deadline = std::chrono::steady_clock::time_point;

// Also the streaming server's StreamingRuntime: sessions run through the container's shim.
class CriService final : public streaming::StreamingRuntime {
 public:
  explicit CriService(CriDeps deps) : deps_(std::move(deps)) {}

  void set_streaming_server(streaming::StreamingServer* server) { deps_.streaming = server; }

  // runtime_status.cc
  Result<void> Version(const v1::VersionRequest& req, v1::VersionResponse& resp);
  Result<void> Status(const v1::StatusRequest& req, v1::StatusResponse& resp);
  Result<void> RuntimeConfig(const v1::RuntimeConfigRequest& req, v1::RuntimeConfigResponse& resp);
  // runtime_config_update.cc
  Result<void> UpdateRuntimeConfig(const v1::UpdateRuntimeConfigRequest& req,
                                   v1::UpdateRuntimeConfigResponse& resp);

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

  // sandbox_run.cc, sandbox_stop.cc (stop and remove), sandbox_status.cc
  Result<void> RunPodSandbox(const v1::RunPodSandboxRequest& req, v1::RunPodSandboxResponse& resp);
  Result<void> StopPodSandbox(const v1::StopPodSandboxRequest& req,
                              v1::StopPodSandboxResponse& resp);
  Result<void> RemovePodSandbox(const v1::RemovePodSandboxRequest& req,
                                v1::RemovePodSandboxResponse& resp);
  Result<void> PodSandboxStatus(const v1::PodSandboxStatusRequest& req,
                                v1::PodSandboxStatusResponse& resp);
  Result<void> ListPodSandbox(const v1::ListPodSandboxRequest& req,
                              v1::ListPodSandboxResponse& resp);

  // container_create.cc, container_start.cc, container_stop.cc (stop and remove),
  // container_status.cc, container_exec_sync.cc (ExecSync and ReopenContainerLog)
  Result<void> CreateContainer(const v1::CreateContainerRequest& req,
                               v1::CreateContainerResponse& resp);
  Result<void> StartContainer(const v1::StartContainerRequest& req,
                              v1::StartContainerResponse& resp);
  Result<void> StopContainer(const v1::StopContainerRequest& req, v1::StopContainerResponse& resp);
  Result<void> RemoveContainer(const v1::RemoveContainerRequest& req,
                               v1::RemoveContainerResponse& resp);
  Result<void> ContainerStatus(const v1::ContainerStatusRequest& req,
                               v1::ContainerStatusResponse& resp);
  Result<void> ListContainers(const v1::ListContainersRequest& req,
                              v1::ListContainersResponse& resp);
  Result<void> ExecSync(const v1::ExecSyncRequest& req, v1::ExecSyncResponse& resp);
  Result<void> ReopenContainerLog(const v1::ReopenContainerLogRequest& req,
                                  v1::ReopenContainerLogResponse& resp);
  // container_stream.cc: the RPCs, then the StreamingRuntime side.
  Result<void> Exec(const v1::ExecRequest& req, v1::ExecResponse& resp);
  Result<void> Attach(const v1::AttachRequest& req, v1::AttachResponse& resp);
  Result<void> PortForward(const v1::PortForwardRequest& req, v1::PortForwardResponse& resp);
  Result<int> RunExecSession(const std::string& container_id, const std::vector<std::string>& cmd,
                             streaming::StreamSet& io) override;
  Result<void> RunAttachSession(const std::string& container_id, streaming::StreamSet& io) override;
  Result<UniqueFd> PortForwardConnect(const std::string& sandbox_id, uint16_t port) override;

  // container_update.cc
  Result<void> UpdateContainerResources(const v1::UpdateContainerResourcesRequest& req,
                                        v1::UpdateContainerResourcesResponse& resp);
  // CRIU checkpoint/restore (cri/checkpoint_*.cc).
  Result<void> CheckpointContainer(const v1::CheckpointContainerRequest& req,
                                   v1::CheckpointContainerResponse& resp);
  Result<void> CheckpointPod(const v1::CheckpointPodRequest& req, v1::CheckpointPodResponse& resp);
  Result<void> RestorePod(const v1::RestorePodRequest& req, v1::RestorePodResponse& resp);
  // container_events.cc: GetContainerEvents takes events from a subscription until the client
  // goes away; the exit watcher reports containers that end on their own.
  std::shared_ptr<EventBroker::Subscription> SubscribeContainerEvents();
  // Starts watching every live container's shim for its exit (at start-up, after a restart).
  Result<void> WatchContainerExits();
  // Ends every event stream (shutdown).
  void CloseContainerEvents();

  // sandbox_stats.cc
  Result<void> PodSandboxStats(const v1::PodSandboxStatsRequest& req,
                               v1::PodSandboxStatsResponse& resp);
  Result<void> ListPodSandboxStats(const v1::ListPodSandboxStatsRequest& req,
                                   v1::ListPodSandboxStatsResponse& resp);
  // container_stats.cc
  Result<void> ContainerStats(const v1::ContainerStatsRequest& req,
                              v1::ContainerStatsResponse& resp);
  Result<void> ListContainerStats(const v1::ListContainerStatsRequest& req,
                                  v1::ListContainerStatsResponse& resp);

  // metrics_list.cc: the cAdvisor-style metrics kubelet serves on /metrics/cadvisor.
  Result<void> ListMetricDescriptors(const v1::ListMetricDescriptorsRequest& req,
                                     v1::ListMetricDescriptorsResponse& resp);
  Result<void> ListPodSandboxMetrics(const v1::ListPodSandboxMetricsRequest& req,
                                     v1::ListPodSandboxMetricsResponse& resp);
  // The same pods as ListPodSandboxMetrics, in bounded chunks through `send`; kCancelled when
  // `send` returns false (the client went away), without reading the remaining pods.
  Result<void> StreamPodSandboxMetrics(const v1::StreamPodSandboxMetricsRequest& req,
                                       StreamSink<v1::StreamPodSandboxMetricsResponse>& sink);

  // stream_lists.cc: the unary lists' items for the same filter, sent to `sink` in messages of
  // at most deps_.stream_chunk_items; kCancelled once the client cancels or goes away.
  Result<void> StreamPodSandboxes(const v1::StreamPodSandboxesRequest& req,
                                  StreamSink<v1::StreamPodSandboxesResponse>& sink);
  Result<void> StreamContainers(const v1::StreamContainersRequest& req,
                                StreamSink<v1::StreamContainersResponse>& sink);
  Result<void> StreamContainerStats(const v1::StreamContainerStatsRequest& req,
                                    StreamSink<v1::StreamContainerStatsResponse>& sink);
  Result<void> StreamPodSandboxStats(const v1::StreamPodSandboxStatsRequest& req,
                                     StreamSink<v1::StreamPodSandboxStatsResponse>& sink);
  Result<void> StreamImages(const v1::StreamImagesRequest& req,
                            StreamSink<v1::StreamImagesResponse>& sink);

  // sandbox_resources_update.cc
  Result<void> UpdatePodSandboxResources(const v1::UpdatePodSandboxResourcesRequest& req,
                                         v1::UpdatePodSandboxResourcesResponse& resp);

 private:
  // CreateContainer, restoring the process from `restore` when set (cri/checkpoint_restore.h).
  Result<void> CreateContainerFrom(const v1::CreateContainerRequest& req,
                                   const RestoreSource* restore, v1::CreateContainerResponse& resp);
  // The bodies of the lists, shared by the unary and the streaming RPCs: every object that
  // passes `filter`, each filled into a new `slot` (sandbox_status.cc, container_status.cc,
  // container_stats.cc, sandbox_stats.cc, image_status.cc).
  Result<void> ListPodSandboxInto(const v1::PodSandboxFilter& filter,
                                  const ItemSlot<v1::PodSandbox>& slot);
  Result<void> ListContainersInto(const v1::ContainerFilter& filter,
                                  const ItemSlot<v1::Container>& slot);
  Result<void> ListContainerStatsInto(const v1::ContainerStatsFilter& filter,
                                      const ItemSlot<v1::ContainerStats>& slot);
  Result<void> ListPodSandboxStatsInto(const v1::PodSandboxStatsFilter& filter,
                                       const ItemSlot<v1::PodSandboxStats>& slot);
  Result<void> ListImagesInto(const v1::ImageFilter& filter, const ItemSlot<v1::Image>& slot);
  Result<oci::Process> ExecProcess(const ContainerInfo& info, const std::vector<std::string>& cmd,
                                   bool tty);
  Result<void> FillContainerStats(const ContainerRecord& record, v1::ContainerStats& out);
  Result<void> FillPodSandboxStats(const Sandbox& decoded,
                                   const std::vector<ContainerRecord>& containers,
                                   v1::PodSandboxStats& out);
  // metrics_list.cc: `each` gets every ready pod's metrics; kCancelled when it returns false.
  Result<void> CollectPodSandboxMetrics(const std::function<bool(v1::PodSandboxMetrics&)>& each);
  void CollectContainerMetrics(const ContainerRecord& record, const SandboxInfo& pod_info,
                               const MetricLabels& pod_labels,
                               const std::optional<storage::FsCapacity>& fs, int64_t now_ns,
                               v1::ContainerMetrics& out);
  // A cgroup's usage; nullopt when it does not exist.
  Result<std::optional<oci::CgroupStats>> CgroupStatsAt(const std::string& path);
  // The record as CRI shows it, without asking its shim (container_status.cc).
  Result<void> FillContainerStatus(const ContainerRecord& record, v1::ContainerStatus& status);
  // Sends `type` for the container with its pod's status and its containers' statuses.
  void PublishContainerEvent(const ContainerRecord& record, v1::ContainerEventType type);
  // A container's exit record appeared: bring its record up to date (publishes STOPPED).
  void OnContainerExit(const std::string& id);
  // Shared steps of the lifecycle (container_lifecycle.cc).
  Result<std::string> ResolveSandbox(const std::string& id_or_prefix);
  Result<std::string> ResolveContainer(const std::string& id_or_prefix);
  // The container, which must be running (kFailedPrecondition otherwise), and its info.
  Result<std::pair<ContainerRecord, ContainerInfo>> RunningContainer(
      const std::string& id_or_prefix);
  // Brings the record up to date with its shim (an exit while cricketd was down).
  Result<ContainerRecord> RefreshContainer(ContainerRecord record);
  // SIGTERM (or the image's stop signal), then SIGKILL after `timeout_s`. Caller holds its lock.
  Result<void> StopContainerLocked(const std::string& id, int64_t timeout_s);
  // CheckpointPod with kMigrateOption: the dumped containers stopped, the pod's portable
  // volumes published and released (cri/checkpoint_pod.cc).
  Result<void> StopMigrated(const std::string& sandbox_id,
                            const std::vector<ContainerRecord>& containers);
  // Deletes a container (or infra) through its shim, or through the runtime when the shim is
  // gone. Unknown to both is OK.
  Result<void> DeleteThroughShim(const std::string& id, const std::string& shim_dir,
                                 const std::string& runtime_handler);
  // Deletes the container, its rootfs and its record. Caller holds its lock.
  Result<void> RemoveContainerLocked(const std::string& id);
  // Stops the infra process and tears the network down. Caller holds the sandbox lock.
  Result<void> StopSandboxLocked(const std::string& id);

  // Repairs what a crash left (startup_reconcile.cc) with the steps above.
  friend class StartupReconcile;

  // OK when containers can be run: the store answers and the cgroup hierarchy is known.
  Result<void> RuntimeReady();
  // OK when pods can get a network.
  Result<void> NetworkReady();

  CriDeps deps_;
  KeyedMutex locks_;
  EventBroker events_;
  // Containers whose STOPPED event went out, so concurrent refreshes send it once.
  std::mutex stopped_mu_;
  std::set<std::string> stopped_published_;  // Guarded by stopped_mu_.
  // Declared last: its thread calls back into the members above, so it must stop first.
  std::unique_ptr<ExitWatcher> exit_watcher_;
};

// The CRI view of an image (image_status.cc).
void ToCriImage(const storage::Image& image, v1::Image& out);

}  // namespace cricket::cri
