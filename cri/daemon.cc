#include "cri/daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/files.h"
#include "common/helper_binary.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/sealed_exe.h"
#include "cri/container_reconcile.h"
#include "cri/container_spec.h"
#include "cri/metadata_recovery.h"
#include "cri/oom_score.h"
#include "cri/prometheus_endpoint.h"
#include "cri/prometheus_interceptor.h"
#include "cri/startup_reconcile.h"
#include "oci/cgroup_detect.h"
#include "oci/cgroup_manager.h"
#include "storage/image_import_dir.h"

namespace cricket::cri {
namespace {

// CRI messages (ListContainers on a busy node) exceed gRPC's 4 MiB default.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

// Creates the socket's directory 0711 (others may traverse to the socket, not list the dir).
Result<void> PrepareSocketDir(const std::string& socket_path) {
  std::string dir = std::filesystem::path(socket_path).parent_path().string();
  bool existed = std::filesystem::exists(dir);
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0711));
  if (!existed && ::chmod(dir.c_str(), 0711) < 0) {  // mkdir's mode is filtered by the umask
    return Error::FromErrno(errno, "chmod " + dir);
  }
  return Ok();
}

// We hold the socket lock, so a socket file at the path is a leftover of a crashed instance.
Result<void> RemoveStaleSocket(const std::string& socket_path) {
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) < 0) {
    return errno == ENOENT ? Ok() : Error::FromErrno(errno, "stat " + socket_path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error(Code::kFailedPrecondition, socket_path + " exists and is not a socket");
  }
  if (::unlink(socket_path.c_str()) < 0) {
    return Error::FromErrno(errno, "remove stale socket " + socket_path);
  }
  log::Info({}, "removed stale socket {}", socket_path);
  return Ok();
}

}  // namespace

Daemon::Daemon(const Config& config, LockFile root_lock, LockFile socket_lock)
    : config_(config), root_lock_(std::move(root_lock)), socket_lock_(std::move(socket_lock)) {}

Daemon::~Daemon() {
  if (server_) {
    Shutdown(std::chrono::milliseconds(0));
  }
}

Result<std::unique_ptr<Daemon>> Daemon::Start(const Config& config) {
  CR_RETURN_IF_ERROR(MakeDirs(config.root, 0700));
  CR_RETURN_IF_ERROR(MakeDirs(config.state, 0711));
  const std::string socket_path = config.socket_path();
  CR_RETURN_IF_ERROR(PrepareSocketDir(socket_path));

  auto root_lock = LockFile::Acquire(config.root + "/cricketd.lock");
  if (!root_lock.ok()) {
    return root_lock.error().Wrap("another cricketd uses root " + config.root);
  }
  auto socket_lock = LockFile::Acquire(socket_path + ".lock");
  if (!socket_lock.ok()) {
    return socket_lock.error().Wrap("another cricketd serves " + socket_path);
  }
  std::unique_ptr<Daemon> daemon(
      new Daemon(config, std::move(root_lock).value(), std::move(socket_lock).value()));
  CR_RETURN_IF_ERROR(daemon->Serve());
  return daemon;
}

Result<void> Daemon::SetUpNetwork() {
  network::NetworkManagerOptions options{config_.network, config_.root + "/network",
                                         config_.state + "/netns"};
  auto created = network::NetworkManager::Create(options);
  if (!created.ok()) {
    if (created.error().code() == Code::kInvalidArgument) {
      return created.error();  // a bad setting: refuse to start
    }
    log::Warn({}, "pod network not ready: {}", created.error().message());
    pod_network_ = created.error();
    return Ok();
  }
  network_ = std::move(created).value();
  // Pods that were ready keep their network; anything else left by a crash goes.
  CR_ASSIGN_OR_RETURN(auto sandboxes, store_->ListSandboxes());
  std::set<std::string> live;
  for (const auto& sandbox : sandboxes) {
    if (sandbox.state == SandboxState::kReady) {
      live.insert(sandbox.id);
    }
  }
  if (auto reconciled = network_->Reconcile(live); !reconciled.ok()) {
    log::Warn({}, "network reconcile: {}", reconciled.error().message());
  }
  pod_network_ = network_.get();
  return Ok();
}

Result<void> Daemon::OpenImageStore(const std::string& fetch_binary) {
  storage::ImageStoreOptions options;
  options.root = config_.root;  // blobs/, snapshots/, images.db beside metadata.db
  options.pinned = config_.images.pinned;
  options.max_parallel_downloads = config_.images.max_parallel_downloads;
  options.unpack.max_uncompressed_bytes = config_.images.max_layer_uncompressed_bytes;
  options.unpack.max_entries = config_.images.max_layer_entries;
  options.fetch_binary = fetch_binary;
  options.registry.hosts = config_.registries;
  auto store = storage::ImageStore::Open(std::move(options), sys_);
  if (!store.ok()) {
    return store.error().Wrap("open image store");
  }
  images_ = std::move(store).value();
  return Ok();
}

Result<void> Daemon::OpenVolumes(const std::string& fetch_binary) {
  const storage::VolumesConfig& v = config_.volumes;
  storage::VolumeManagerOptions options;
  options.root = config_.root + "/volumes";
  options.fetch_binary = fetch_binary;
  options.node = v.node_name;
  if (options.node.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) < 0) {
      return Error::FromErrno(errno, "gethostname for volumes.node_name");
    }
    options.node = host;
  }
  options.coordination.backend = v.coordination;
  options.coordination.local_dir = v.coordination_dir;
  options.coordination.etcd_endpoints = v.etcd_endpoints;
  options.coordination.etcd_prefix = v.etcd_prefix;
  options.coordination.lease_ttl = std::chrono::seconds(v.lease_ttl_seconds);
  options.coordination.request_timeout = std::chrono::milliseconds(v.etcd_timeout_ms);
  options.store = v.snapshot_store;
  options.snapshot_dir = v.snapshot_dir;
  options.snapshot_repository = v.snapshot_repository;
  options.oci.registry.hosts = config_.registries;
  options.snapshot_interval =
      std::chrono::milliseconds(static_cast<int64_t>(v.snapshot_interval_seconds * 1000));
  options.squash_after_layers = v.squash_after_layers;
  auto volumes = storage::VolumeManager::Open(std::move(options));
  if (!volumes.ok()) {
    return volumes.error().Wrap("portable volumes");
  }
  volumes_ = std::move(volumes).value();
  log::Info({}, "portable volumes under {} (node {}, coordination {}, store {})", v.portable_root,
            volumes_->node(), v.coordination, v.snapshot_store);
  return Ok();
}

Result<void> Daemon::Serve() {
  // The systemd driver needs systemd as PID 1: refused here, before anything is made, rather
  // than on the first pod.
  if (config_.cgroup_driver == CgroupDriver::kSystemd) {
    CR_RETURN_IF_ERROR(CheckSystemdDriverUsable());
    CR_ASSIGN_OR_RETURN(systemd_bus_, oci::NewSdBus());
  }
  CR_ASSIGN_OR_RETURN(store_, MetadataStore::Open(config_.root));
  if (!store_->set_aside_path().empty()) {
    // Before the network reconcile below, which tears down every pod the store does not know.
    CR_ASSIGN_OR_RETURN(MetadataRecovery rebuilt, RecoverMetadata(config_.state, *store_));
    log::Warn({},
              "metadata.db rebuilt from {}: {} sandboxes and {} containers recovered "
              "(manageable: list, stop, remove; their CRI configs are lost), {} skipped; the "
              "damaged file is {}",
              config_.state, rebuilt.sandboxes, rebuilt.containers, rebuilt.skipped,
              store_->set_aside_path());
  }
  auto cgroups = oci::DetectCgroups();
  if (!cgroups.ok()) {
    log::Warn({}, "runtime not ready: {}", cgroups.error().message());
  }
  CR_RETURN_IF_ERROR(SetUpNetwork());
  // Registry requests run in cricket-fetch (storage/fetch_main.cc says why).
  CR_ASSIGN_OR_RETURN(const std::string fetch_binary, FindHelperBinary("cricket-fetch", "storage"));
  CR_RETURN_IF_ERROR(OpenImageStore(fetch_binary));
  // Archives placed in <root>/images-import/ (air-gapped nodes); a bad one is logged, not fatal.
  storage::ImportDirectory(*images_, config_.root, config_.images.pin_imported);
  CR_RETURN_IF_ERROR(OpenVolumes(fetch_binary));
  CriDeps deps;
  deps.config = &config_;
  deps.store = store_.get();
  deps.cgroups = cgroups;  // kept: the container reconcile below needs it too
  deps.network = pod_network_.ok() ? Result<network::PodNetworking*>(*pod_network_)
                                   : Result<network::PodNetworking*>(pod_network_.error());
  deps.images = images_.get();
  rootfs_ = NewImageStoreRootfs(*images_);
  deps.rootfs = rootfs_.get();
  if (volumes_ != nullptr) {
    portable_volumes_ = NewVolumeManagerVolumes(*volumes_);
  }
  deps.volumes = portable_volumes_.get();
  deps.sys = &sys_;
  // cricketd's capabilities and its own oom_score_adj are fixed for its lifetime: read once,
  // not on every CreateContainer.
  deps.oom_score_adj_floor = OomScoreAdjFloor();
  apparmor_ = std::make_unique<AppArmorProfiles>(config_.apparmor_parser);
  deps.apparmor = apparmor_.get();
  CR_ASSIGN_OR_RETURN(const std::string shim_binary, FindHelperBinary("cricket-shim", "shim"));
  // Every shim runs from one sealed handle made here (common/sealed_exe.h): the shim's clones
  // are the container's init and exec children until their execve, and must not expose the
  // host's file. Made once: nothing per container.
  CR_RETURN_IF_ERROR(MakeDirs(config_.state, 0711));
  CR_ASSIGN_OR_RETURN(shim_exe_, SealExecutable(shim_binary, {.scratch_dir = config_.state}));
  shims_ = NewProcessShims(shim_binary, shim_exe_.fd.get());
  deps.shims = shims_.get();
  log::Info({}, "shims run from a sealed {} ({})", shim_binary, SealMethodName(shim_exe_.method));
  if (systemd_bus_ != nullptr) {
    if (!deps.cgroups.ok()) {
      return deps.cgroups.error().Wrap("cgroup_driver = \"systemd\"");
    }
    scopes_ = std::make_unique<SystemdScopes>(*systemd_bus_, deps.cgroups->mode);
    systemd_shims_ = NewSystemdShims(*shims_, *scopes_);
    deps.shims = systemd_shims_.get();
    deps.scopes = scopes_.get();
    log::Info({}, "cgroup driver systemd: containers in transient scopes ({})",
              oci::CgroupModeName(deps.cgroups->mode));
  }
  CR_ASSIGN_OR_RETURN(deps.pause_binary, FindHelperBinary("cricket-pause", "shim"));
  deps.stream_chunk_items = StreamChunkItemsFrom(std::getenv("CRICKET_STREAM_CHUNK_ITEMS"));
  if (!config_.metrics.address.empty()) {
    metrics_ = std::make_unique<prometheus::CriMetrics>();
    deps.metrics = metrics_.get();
  }
  ShimAccess* const deps_shims = deps.shims;
  service_ = std::make_unique<CriService>(std::move(deps));
  StartupReconcile::Run(*service_);  // what a crash left half-made (issue #14)
  // What a crash left of containers is finished or removed before anyone can ask (each repair
  // is logged; a failure leaves it to the next start).
  (void)ReconcileContainers(
      *service_, {&config_, store_.get(), deps_shims, rootfs_.get(), &sys_, std::move(cgroups)});
  if (auto watching = service_->WatchContainerExits(); !watching.ok()) {
    // Exits are still found by status calls; only events come late.
    log::Warn({}, "container exits are not watched: {}", watching.error().message());
  }
  // Exec/Attach/PortForward URLs: by default loopback and a free port (kubelet, which the API
  // server goes through, runs on this node).
  streaming::StreamingServerOptions streaming_options;
  CR_ASSIGN_OR_RETURN(HostPort streaming_address, ParseHostPort(config_.streaming.address));
  streaming_options.address = streaming_address.host;
  streaming_options.port = streaming_address.port;
  streaming_options.max_connections = config_.streaming.max_connections;
  auto streaming = streaming::StreamingServer::Start(streaming_options, *service_);
  if (streaming.ok()) {
    streaming_ = std::move(streaming).value();
    service_->set_streaming_server(streaming_.get());
    log::Info({}, "streaming server on {}", streaming_->base_url());
  } else {
    log::Warn({}, "streaming server not started: {}", streaming.error().message());
  }
  runtime_adapter_ = std::make_unique<RuntimeServiceAdapter>(*service_, calls_);
  image_adapter_ = std::make_unique<ImageServiceAdapter>(*service_, calls_);
  volumes_admin_ = std::make_unique<VolumesAdmin>(*volumes_);
  volumes_admin_adapter_ = std::make_unique<VolumesAdminAdapter>(*volumes_admin_, calls_);
  images_admin_ = std::make_unique<ImagesAdmin>(*images_);
  images_admin_adapter_ = std::make_unique<ImagesAdminAdapter>(*images_admin_, calls_);

  if (metrics_ != nullptr) {
    // Before the socket serves: an address that cannot be bound stops cricketd.
    CR_ASSIGN_OR_RETURN(metrics_server_,
                        prometheus::StartMetricsEndpoint(config_.metrics, *metrics_,
                                                         {store_.get(), config_.state + "/shims",
                                                          streaming_.get(), volumes_.get()}));
  }

  const std::string socket_path = config_.socket_path();
  CR_RETURN_IF_ERROR(RemoveStaleSocket(socket_path));

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(runtime_adapter_.get());
  builder.RegisterService(image_adapter_.get());
  builder.RegisterService(volumes_admin_adapter_.get());  // cricket.admin.v1.Volumes
  builder.RegisterService(images_admin_adapter_.get());   // cricket.admin.v1.Images
  if (metrics_ != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(prometheus::NewRpcMetricsInterceptor(*metrics_));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // The socket is created inside BuildAndStart; a tight umask keeps it 0660 from the first
  // instant, so no other user can connect in the window before the chmod below.
  mode_t old_umask = ::umask(0117);
  server_ = builder.BuildAndStart();
  ::umask(old_umask);
  if (!server_) {
    return Error(Code::kUnavailable, "listen on unix socket " + socket_path);
  }
  if (::chmod(socket_path.c_str(), 0660) < 0) {
    return Error::FromErrno(errno, "chmod " + socket_path);
  }
  log::Info({}, "cricketd serving on {} (root {}, state {})", socket_path, config_.root,
            config_.state);
  return Ok();
}

// /cricket, the cgroup parent of pods that name none, is cricketd's: made on first use, removed
// when cricketd stops and no pod uses it (rmdir fails while it has children, which is fine:
// the pods outlive cricketd, and the next cricketd owns it again).
void Daemon::RemoveIdleParentCgroup() {
  auto cgroups = oci::DetectCgroups();
  if (!cgroups.ok()) {
    return;
  }
  auto removed = oci::NewCgroupManager(sys_, *cgroups, CgroupParentPath(""))->Destroy();
  if (removed.ok()) {
    log::Debug({}, "removed the idle cgroup {}", CgroupParentPath(""));
  }
}

Result<void> Daemon::ReloadImageSettings(const Config& next) {
  return images_->Reconfigure({next.registries}, next.images.pinned);
}

void Daemon::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) {
    return;
  }
  metrics_server_.reset();
  if (!calls_.Drain(grace)) {
    log::Warn({}, "calls still running after {} ms are cancelled", grace.count());
  }
  service_->CloseContainerEvents();
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  RemoveIdleParentCgroup();
  // Only our own socket: the lock guarantees no other instance uses this path.
  if (::unlink(config_.socket_path().c_str()) < 0 && errno != ENOENT) {
    log::Warn({}, "remove socket {}: errno {}", config_.socket_path(), errno);
  }
  log::Info({}, "cricketd stopped");
}

}  // namespace cricket::cri
