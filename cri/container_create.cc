// CreateContainer: a rootfs snapshot of the image, an OCI bundle from the CRI config, and a
// shim holding the created (not yet started) container.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include "common/check.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "cri/apparmor_profiles.h"
#include "cri/checkpoint_restore.h"
#include "cri/container_spec.h"
#include "cri/container_user.h"
#include "cri/ids.h"
#include "cri/oom_score.h"
#include "cri/portable_mounts.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "oci/spec_json.h"
#include "shim/shim_client.h"
#include "storage/overlay_mount.h"

namespace cricket::cri {
namespace {

// The image's STOPSIGNAL ("SIGQUIT", "QUIT" or "3"); 0 means SIGTERM.
int ParseStopSignal(const std::string& text) {
  static const std::pair<const char*, int> kNames[] = {
      {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"QUIT", SIGQUIT}, {"INT", SIGINT},
      {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"WINCH", SIGWINCH}};
  std::string name = text.starts_with("SIG") ? text.substr(3) : text;
  for (const auto& [n, sig] : kNames) {
    if (name == n) {
      return sig;
    }
  }
  int number = std::atoi(text.c_str());
  return number > 0 && number < 65 ? number : 0;
}

// kubelet gives a directory per pod and a path inside it per container.
std::string LogPath(const SandboxInfo& sandbox, const v1::ContainerConfig& config,
                    const std::string& bundle) {
  if (!config.log_path().empty()) {
    if (config.log_path().front() == '/') {
      return config.log_path();
    }
    if (!sandbox.log_directory.empty()) {
      return sandbox.log_directory + "/" + config.log_path();
    }
  }
  return bundle + "/container.log";
}

// In a pod with its own user namespace (userns_options POD with uid and gid mappings) the
// image's files, owned by the node's ids, are seen through the pod's mappings: the rootfs is an
// id-mapped mount of the snapshot (storage/overlay_mount.h), through the namespace the pod's
// infra process holds.
std::optional<storage::SnapshotIdmap> PodSnapshotIdmap(const v1::PodSandboxConfig& pod,
                                                       const SandboxInfo& sandbox) {
  const auto& ns = pod.linux().security_context().namespace_options();
  if (!ns.has_userns_options() || ns.userns_options().mode() != v1::POD ||
      ns.userns_options().uids().empty() || ns.userns_options().gids().empty()) {
    return std::nullopt;
  }
  storage::SnapshotIdmap idmap;
  idmap.userns_path = "/proc/" + std::to_string(sandbox.infra_pid) + "/ns/user";
  idmap.uid_mappings = ConvertIdMappings<storage::IdMapping>(ns.userns_options().uids());
  idmap.gid_mappings = ConvertIdMappings<storage::IdMapping>(ns.userns_options().gids());
  return idmap;
}

Result<void> ValidateCreateConfig(const v1::ContainerConfig& config) {
  if (config.metadata().name().empty()) {
    return Error(Code::kInvalidArgument, "config.metadata.name is empty");
  }
  if (config.image().image().empty()) {
    return Error(Code::kInvalidArgument, "config.image.image is empty");
  }
  return Ok();
}

Result<SandboxRecord> ReadySandbox(const CriDeps& deps, const std::string& sandbox_id) {
  CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, deps.store->GetSandbox(sandbox_id));
  if (sandbox.state != SandboxState::kReady) {
    return Error(Code::kFailedPrecondition, "sandbox " + sandbox_id + " is not ready");
  }
  return sandbox;
}

// The image the container runs from; kNotFound naming it when it is not pulled.
Result<storage::Image> FindImage(const CriDeps& deps, const std::string& name) {
  auto image = deps.rootfs->FindImage(name);
  if (!image.ok()) {
    return image.error().code() == Code::kNotFound
               ? Error(Code::kNotFound, "image " + name + " not found")
               : image.error();
  }
  return image;
}

// The new container's record and info (not stored yet) and the runtime that will run it.
Result<RuntimeTarget> DescribeContainer(const CriDeps& deps, const v1::ContainerConfig& config,
                                        const std::string& sandbox_id, const SandboxRecord& sandbox,
                                        const SandboxInfo& sandbox_info,
                                        const storage::Image& image, ContainerRecord& record,
                                        ContainerInfo& info) {
  record.id = NewId();
  record.sandbox_id = sandbox_id;
  record.name = config.metadata().name() + "_" + sandbox.name + "_" +
                std::to_string(config.metadata().attempt());
  record.created_at_ns = NowUnixNanos();
  record.state = ContainerState::kCreated;
  CR_RETURN_IF_ERROR(EncodeConfig(config, record));
  info.image_id = image.id;
  info.image_name = config.image().image();
  info.bundle = deps.config->state + "/containers/" + record.id;
  info.shim_dir = deps.config->state + "/shims/" + record.id.substr(0, 16);
  info.tty = config.tty();
  info.stop_signal = ParseStopSignal(image.config.stop_signal);
  info.runtime_handler = sandbox_info.runtime_handler;
  CR_ASSIGN_OR_RETURN(RuntimeTarget runtime, RuntimeFor(*deps.config, info.runtime_handler));
  info.log_path = LogPath(sandbox_info, config, info.bundle);
  EncodeInfo(info, record);
  return runtime;
}

// Each portable volume: attached (lease taken, working copy at the published head, restored
// atomically) and its working copy bind-mounted in place of the host path. The caller detaches
// on failure, which gives every lease taken here back without publishing anything.
Result<void> AttachPortableVolumes(const CriDeps& deps, const std::vector<PortableMount>& portable,
                                   const std::string& sandbox_id, const ContainerRecord& record,
                                   v1::ContainerConfig& effective) {
  for (const PortableMount& mount : portable) {
    CR_ASSIGN_OR_RETURN(std::string path,
                        deps.volumes->Attach(mount.volume, sandbox_id, record.id));
    effective.mutable_mounts(mount.index)->set_host_path(path);
  }
  return Ok();
}

// The OCI spec of the container in its bundle (config.json), with the user it resolved in the
// mounted rootfs put into the record (not stored yet).
Result<void> WriteBundleSpec(const CriDeps& deps, const v1::ContainerConfig& config,
                             const v1::ContainerConfig& effective, const storage::Image& image,
                             const std::string& rootfs, const std::string& sandbox_id,
                             const SandboxInfo& sandbox_info,
                             const v1::PodSandboxConfig& sandbox_config, ContainerRecord& record,
                             ContainerInfo& info) {
  ContainerSpecInput input;
  input.container_id = record.id;
  input.config = &effective;
  input.image = &image.config;
  input.rootfs = rootfs;
  input.sandbox.id = sandbox_id;
  input.sandbox.netns_path = sandbox_info.netns_path;
  input.sandbox.infra_pid = sandbox_info.infra_pid;
  input.sandbox.hostname = sandbox_info.hostname;
  input.sandbox.resolv_conf_path = sandbox_info.resolv_conf;
  input.sandbox.hosts_path = sandbox_info.hosts;
  input.sandbox.hostname_path = sandbox_info.hostname_file;
  input.sandbox.cgroup_parent = sandbox_info.cgroup_parent;
  input.sandbox.namespaces = sandbox_config.linux().security_context().namespace_options();
  CR_ASSIGN_OR_RETURN(oci::Spec spec, BuildContainerSpec(input));
  // The user is known only now (names resolve in the mounted rootfs); the record keeps it so
  // statuses and events never read config.json back.
  // It is stored with the final record, once the shim holds the container.
  info.user = ContainerUserFromSpec(spec.process->user);
  EncodeInfo(info, record);
  ClampOomScoreAdj(deps.oom_score_adj_floor, spec);
  CR_CHECK(deps.apparmor != nullptr);
  CR_ASSIGN_OR_RETURN(spec.process->apparmor_profile,
                      deps.apparmor->ProfileFor(config.linux().security_context()));
  CR_RETURN_IF_ERROR(WriteFileAtomic(info.bundle + "/config.json", oci::SpecToJson(spec), 0600,
                                     Durability::kProcessCrash));
  return Ok();
}

// The shim that creates the container and holds it. On failure the caller deletes what a shim
// that died half-way may have left (a created init waiting for start) and the shim dir.
Result<void> LaunchContainerShim(const CriDeps& deps, const v1::ContainerConfig& config,
                                 const ContainerRecord& record, const ContainerInfo& info,
                                 const RuntimeTarget& runtime, const RestoreSource* restore) {
  shim::ShimOptions shim_options;
  shim_options.id = record.id;
  shim_options.bundle = info.bundle;
  shim_options.state_dir = info.shim_dir;
  shim_options.log_path = info.log_path;
  shim_options.runtime_root = runtime.root;
  shim_options.runtime_binary = runtime.binary;
  shim_options.tty = config.tty();
  shim_options.stdin = config.stdin();
  shim_options.stdin_once = config.stdin_once();
  shim_options.failpoints = true;
  if (restore != nullptr) {
    shim_options.restore_from = restore->images_dir();
  }
  auto launched = deps.shims->Launch(shim_options, std::chrono::seconds(60));
  if (!launched.ok()) {
    // Its log (in the shim dir, which goes with the rollback) says why it failed or died.
    if (auto shim_log = ReadFile(info.shim_dir + "/shim.log");
        shim_log.ok() && !shim_log->empty()) {
      log::Warn({.pod = record.sandbox_id, .ctr = record.id}, "its shim failed; shim.log: {}",
                shim_log->substr(shim_log->size() > 2048 ? shim_log->size() - 2048 : 0));
    }
  }
  return launched;
}

}  // namespace

Result<void> CriService::CreateContainer(const v1::CreateContainerRequest& req,
                                         v1::CreateContainerResponse& resp) {
  CR_RETURN_IF_ERROR(ValidateCreateConfig(req.config()));
  // An image that names a checkpoint archive restores the container from it.
  CR_ASSIGN_OR_RETURN(std::unique_ptr<RestoreSource> restore,
                      OpenRestoreSource(deps_, req.config()));
  return CreateContainerFrom(req, restore.get(), resp);
}

Result<void> CriService::CreateContainerFrom(const v1::CreateContainerRequest& req,
                                             const RestoreSource* restore,
                                             v1::CreateContainerResponse& resp) {
  const v1::ContainerConfig& config = restore != nullptr ? restore->config() : req.config();
  CR_ASSIGN_OR_RETURN(std::string sandbox_id, ResolveSandbox(req.pod_sandbox_id()));
  CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, ReadySandbox(deps_, sandbox_id));
  CR_ASSIGN_OR_RETURN(SandboxInfo sandbox_info, DecodeInfo(sandbox));
  // A corrupt pod config is refused: read as empty it would drop the pod's namespace and
  // user-namespace options.
  CR_ASSIGN_OR_RETURN(const v1::PodSandboxConfig sandbox_config, DecodeConfig(sandbox));
  // Portable volumes are validated before anything is made: bad paths change nothing.
  CR_ASSIGN_OR_RETURN(
      std::vector<PortableMount> portable,
      FindPortableMounts(config, sandbox_config, deps_.config->volumes.portable_root));
  if (!portable.empty() && deps_.volumes == nullptr) {
    return Error(Code::kUnavailable, "portable volumes are not available on this node");
  }
  CR_ASSIGN_OR_RETURN(storage::Image image, FindImage(deps_, config.image().image()));

  ContainerRecord record;
  ContainerInfo info;
  CR_ASSIGN_OR_RETURN(RuntimeTarget runtime, DescribeContainer(deps_, config, sandbox_id, sandbox,
                                                               sandbox_info, image, record, info));
  auto lock = locks_.Acquire(record.id);
  // Reserve the name first: a clash fails before anything is made. Each step below is undone
  // in reverse order when a later one fails. After a crash, the record (in the created state,
  // with no live shim) is what start-up reconcile (cri/container_reconcile.h) finds and
  // removes through RemoveContainer, so the record goes first and is deleted last.
  CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  Cleanup drop_record([&] { (void)deps_.store->DeleteContainer(record.id); });
  CR_FAILPOINT(kContainerCreateAfterRecord);

  const std::string rootfs = info.bundle + "/rootfs";
  CR_RETURN_IF_ERROR(MakeDirs(rootfs, 0700));
  Cleanup drop_bundle([&] {
    std::error_code ec;
    std::filesystem::remove_all(info.bundle, ec);
  });
  ContainerRootfs& snapshots = *deps_.rootfs;
  CR_RETURN_IF_ERROR(snapshots.Prepare(record.id, image.chain_id));
  Cleanup drop_snapshot([&] { (void)snapshots.Remove(record.id); });
  CR_FAILPOINT(kContainerCreateAfterSnapshot);
  if (restore != nullptr) {
    CR_RETURN_IF_ERROR(restore->ApplyTo(snapshots, record.id));
  }
  CR_RETURN_IF_ERROR(
      snapshots.Mount(record.id, rootfs, PodSnapshotIdmap(sandbox_config, sandbox_info)));
  Cleanup unmount([&] { (void)snapshots.Unmount(rootfs); });
  CR_FAILPOINT(kContainerCreateAfterMount);

  v1::ContainerConfig effective = config;
  Cleanup detach([&] {
    if (auto detached = deps_.volumes->DetachContainer(record.id, /*publish=*/false);
        !detached.ok()) {
      log::Warn({.pod = sandbox_id, .ctr = record.id}, "detach volumes: {}",
                detached.error().message());
    }
  });
  if (portable.empty()) {
    detach.Dismiss();
  }
  CR_RETURN_IF_ERROR(AttachPortableVolumes(deps_, portable, sandbox_id, record, effective));
  CR_FAILPOINT(kContainerCreateAfterVolumes);
  CR_RETURN_IF_ERROR(WriteBundleSpec(deps_, config, effective, image, rootfs, sandbox_id,
                                     sandbox_info, sandbox_config, record, info));
  CR_FAILPOINT(kContainerCreateAfterSpec);
  CR_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(info.log_path).parent_path().string(), 0755));
  // Armed before the launch: a shim that fails (or dies) after its runtime created the
  // container leaves a created init; a step after the launch that fails leaves a live shim.
  // Either is deleted through the shim, or through the runtime when the shim is gone.
  Cleanup drop_shim([&] {
    if (auto deleted = DeleteThroughShim(record.id, info.shim_dir, info.runtime_handler);
        !deleted.ok()) {
      log::Warn({.pod = sandbox_id, .ctr = record.id}, "delete after a failed create: {}",
                deleted.error().message());
    }
    std::error_code ec;
    std::filesystem::remove_all(info.shim_dir, ec);
  });
  CR_RETURN_IF_ERROR(LaunchContainerShim(deps_, config, record, info, runtime, restore));
  CR_FAILPOINT(kContainerCreateAfterShim);
  if (exit_watcher_) {
    if (auto watched = exit_watcher_->Watch(record.id, info.shim_dir); !watched.ok()) {
      log::Warn({.pod = sandbox_id, .ctr = record.id}, "cannot watch for its exit: {}",
                watched.error().message());
    }
  }
  Cleanup forget_exit([&] {
    if (exit_watcher_) {
      exit_watcher_->Forget(record.id);
    }
  });
  CR_FAILPOINT(kContainerCreateBeforeFinalRecord);
  // The final record: with the user resolved in the rootfs. From here the container is whole.
  CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));

  forget_exit.Dismiss();
  drop_shim.Dismiss();
  detach.Dismiss();
  unmount.Dismiss();
  drop_snapshot.Dismiss();
  drop_bundle.Dismiss();
  drop_record.Dismiss();
  PublishContainerEvent(record, v1::CONTAINER_CREATED_EVENT);
  resp.set_container_id(record.id);
  log::Info({.pod = sandbox_id, .ctr = record.id}, "container {} created from {}", record.name,
            info.image_name);
  return Ok();
}

}  // namespace cricket::cri
