#pragma once

// Daemon: cricketd's process-wide setup and the gRPC server's life.
//
// Start() takes the instance locks (one on --root, one beside the socket: a second cricketd on
// the same root or the same socket is refused), prepares directories, opens the metadata store,
// replaces a stale socket left by a crash and serves both CRI services on the unix socket with
// mode 0660. Shutdown() stops accepting, lets in-flight calls finish (up to a grace period) and
// returns; containers keep running, they belong to their shims.

#include <chrono>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "common/lock_file.h"
#include "common/result.h"
#include "common/sealed_exe.h"
#include "common/syscalls.h"
#include "cri/config.h"
#include "cri/container_rootfs.h"
#include "cri/grpc_adapter.h"
#include "cri/images_admin.h"
#include "cri/images_admin_adapter.h"
#include "cri/metadata_store.h"
#include "cri/portable_volumes.h"
#include "cri/prometheus_metrics.h"
#include "cri/prometheus_server.h"
#include "cri/service.h"
#include "cri/systemd_scopes.h"
#include "cri/volumes_admin.h"
#include "cri/volumes_admin_adapter.h"
#include "network/network_manager.h"
#include "oci/systemd_bus.h"
#include "storage/image_store.h"
#include "storage/volumes/volume_manager.h"

namespace cricket::cri {

class Daemon {
 public:
  // kFailedPrecondition when another instance holds the root or socket; other codes for
  // directories, the store or the socket that cannot be set up.
  static Result<std::unique_ptr<Daemon>> Start(const Config& config);

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  // Stops accepting; in-flight calls get `grace` to finish before they are cancelled.
  void Shutdown(std::chrono::milliseconds grace);

  // SIGHUP (cri/config_reload.h): the image store takes `next`'s registry settings and pinned
  // images; nothing else of `next` is used. kInvalidArgument for a malformed pinned reference.
  Result<void> ReloadImageSettings(const Config& next);

 private:
  Daemon(const Config& config, LockFile root_lock, LockFile socket_lock);
  Result<void> Serve();
  // Sets pod_network_. An error only for bad settings, which keep cricketd from starting.
  Result<void> SetUpNetwork();
  Result<void> OpenImageStore(const std::string& fetch_binary);
  // Portable volumes from [volumes]; an error (bad backend or store) keeps cricketd from starting.
  Result<void> OpenVolumes(const std::string& fetch_binary);
  // Removes /cricket when no pod uses it (at shutdown).
  void RemoveIdleParentCgroup();

  Config config_;
  LockFile root_lock_;
  LockFile socket_lock_;
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<network::NetworkManager> network_;
  // network_, or why pods get no network: cricketd serves without one and Status says why.
  Result<network::NetworkManager*> pod_network_ = Error(Code::kUnavailable, "no pod network");
  LinuxSyscalls sys_;
  // What every shim is started from; before service_, which holds its fd.
  SealedExe shim_exe_;
  std::unique_ptr<ShimAccess> shims_;  // runs shims from shim_exe_
  // cgroup_driver = "systemd": the bus, the scopes, and shims_ wrapped to start and stop them.
  std::unique_ptr<oci::SystemdBus> systemd_bus_;
  std::unique_ptr<SystemdScopes> scopes_;
  std::unique_ptr<ShimAccess> systemd_shims_;
  std::unique_ptr<storage::ImageStore> images_;
  // Before service_, which uses it; its destructor keeps the leases for the next start.
  std::unique_ptr<storage::VolumeManager> volumes_;
  // The handlers' views of images_ and volumes_ (cri/container_rootfs.h, cri/portable_volumes.h);
  // after what they forward to, before service_.
  std::unique_ptr<ContainerRootfs> rootfs_;
  std::unique_ptr<PortableVolumes> portable_volumes_;
  std::unique_ptr<AppArmorProfiles> apparmor_;
  // [metrics] address set (null otherwise): the counters service_ and server_'s interceptor
  // record into, so before both.
  std::unique_ptr<prometheus::CriMetrics> metrics_;
  std::unique_ptr<CriService> service_;
  // After service_: it calls into the service, so it must go first.
  std::unique_ptr<streaming::StreamingServer> streaming_;
  InflightCalls calls_;
  std::unique_ptr<RuntimeServiceAdapter> runtime_adapter_;
  std::unique_ptr<ImageServiceAdapter> image_adapter_;
  std::unique_ptr<VolumesAdmin> volumes_admin_;
  std::unique_ptr<VolumesAdminAdapter> volumes_admin_adapter_;
  std::unique_ptr<ImagesAdmin> images_admin_;
  std::unique_ptr<ImagesAdminAdapter> images_admin_adapter_;
  std::unique_ptr<grpc::Server> server_;
  // The /metrics endpoint reads the parts above, so it stops first.
  std::unique_ptr<prometheus::MetricsServer> metrics_server_;
};

}  // namespace cricket::cri
