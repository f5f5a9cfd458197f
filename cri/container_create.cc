// CreateContainer: a rootfs snapshot of the image, an OCI bundle from the CRI config, and a
// shim holding the created (not yet started) container.

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include "common/check.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "cri/apparmor_profiles.h"
#include "cri/container_spec.h"
#include "cri/container_user.h"
#include "cri/ids.h"
#include "cri/oom_score.h"
#include "cri/portable_mounts.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "oci/idmap_mount.h"
#include "oci/spec_json.h"
#include "shim/shim_client.h"

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

std::optional<v1::IDMapping> PodRootMapping(const v1::PodSandboxConfig& pod, bool gids) {
  const auto& ns = pod.linux().security_context().namespace_options();
  if (!ns.has_userns_options() || ns.userns_options().mode() != v1::POD) {
    return std::nullopt;
  }
  const auto& maps = gids ? ns.userns_options().gids() : ns.userns_options().uids();
  return maps.empty() ? std::nullopt : std::optional(maps[0]);
}

// In a pod with its own user namespace (userns_options POD) the image's files, owned by the
// node's ids, are seen through the pod's mappings, as containerd does: each image layer is an
// idmapped copy (overlayfs takes idmapped layers; an overlay mount itself cannot be idmapped),
// and the snapshot's empty upper directory belongs to the pod's root, so what the container
// writes lands as its mapped ids.
Result<void> MountPodRootfs(storage::Snapshotter& snapshots, const std::string& key,
                            const v1::PodSandboxConfig& pod, const SandboxInfo& sandbox,
                            const std::string& rootfs) {
  auto uid = PodRootMapping(pod, false);
  auto gid = PodRootMapping(pod, true);
  if (!uid || !gid) {
    return snapshots.Mount(key, rootfs);
  }
  const std::string userns = "/proc/" + std::to_string(sandbox.infra_pid) + "/ns/user";
  UniqueFd userns_fd(::open(userns.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!userns_fd.valid()) {
    return Error::FromErrno(errno, "open the pod's user namespace " + userns);
  }
  CR_ASSIGN_OR_RETURN(storage::OverlayMount m, snapshots.Mounts(key));
  std::vector<UniqueFd> layers;
  std::string options;
  for (size_t start = 0; start <= m.options.size();) {
    size_t end = m.options.find(',', start);
    std::string opt = m.options.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? m.options.size() + 1 : end + 1;
    if (opt.starts_with("upperdir=")) {
      const std::string upper = opt.substr(9);
      if (::chown(upper.c_str(), uid->host_id(), gid->host_id()) < 0) {
        return Error::FromErrno(errno, "chown the snapshot's upper directory " + upper);
      }
    } else if (opt.starts_with("lowerdir=")) {
      std::string lowers = opt.substr(9);
      opt = "lowerdir=";
      for (size_t l = 0; l <= lowers.size();) {
        size_t colon = lowers.find(':', l);
        std::string dir = lowers.substr(l, colon == std::string::npos ? colon : colon - l);
        l = colon == std::string::npos ? lowers.size() + 1 : colon + 1;
        CR_ASSIGN_OR_RETURN(UniqueFd tree, oci::IdmappedTree(dir, userns_fd.get()));
        opt += (layers.empty() ? "" : ":") + ("/proc/self/fd/" + std::to_string(tree.get()));
        layers.push_back(std::move(tree));
      }
    }
    options += (options.empty() ? "" : ",") + opt;
  }
  if (::mount(m.source.c_str(), rootfs.c_str(), m.fstype.c_str(), 0, options.c_str()) < 0) {
    return Error::FromErrno(errno, "mount snapshot " + key + " with the pod's idmapped layers");
  }
  return Ok();
}

}  // namespace

Result<void> CriService::CreateContainer(const v1::CreateContainerRequest& req,
                                         v1::CreateContainerResponse& resp) {
  const v1::ContainerConfig& config = req.config();
  if (config.metadata().name().empty()) {
    return Error(Code::kInvalidArgument, "config.metadata.name is empty");
  }
  if (config.image().image().empty()) {
    return Error(Code::kInvalidArgument, "config.image.image is empty");
  }
  CR_ASSIGN_OR_RETURN(std::string sandbox_id, ResolveSandbox(req.pod_sandbox_id()));
  CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, deps_.store->GetSandbox(sandbox_id));
  if (sandbox.state != SandboxState::kReady) {
    return Error(Code::kFailedPrecondition, "sandbox " + sandbox_id + " is not ready");
  }
  CR_ASSIGN_OR_RETURN(SandboxInfo sandbox_info, SandboxInfoFromJson(sandbox.runtime));
  v1::PodSandboxConfig sandbox_config;
  sandbox_config.ParseFromString(sandbox.config);
  // Portable volumes are validated before anything is made: bad paths change nothing.
  CR_ASSIGN_OR_RETURN(
      std::vector<PortableMount> portable,
      FindPortableMounts(config, sandbox_config, deps_.config->volumes.portable_root));
  if (!portable.empty() && deps_.volumes == nullptr) {
    return Error(Code::kUnavailable, "portable volumes are not available on this node");
  }
  auto image = deps_.images->Status(config.image().image());
  if (!image.ok()) {
    return image.error().code() == Code::kNotFound
               ? Error(Code::kNotFound, "image " + config.image().image() + " not found")
               : image.error();
  }

  ContainerRecord record;
  record.id = NewId();
  record.sandbox_id = sandbox_id;
  record.name = config.metadata().name() + "_" + sandbox.name + "_" +
                std::to_string(config.metadata().attempt());
  record.created_at_ns = NowUnixNanos();
  record.state = ContainerState::kCreated;
  config.SerializeToString(&record.config);
  ContainerInfo info;
  info.image_id = image->id;
  info.image_name = config.image().image();
  info.bundle = deps_.config->state + "/containers/" + record.id;
  info.shim_dir = deps_.config->state + "/shims/" + record.id.substr(0, 16);
  info.tty = config.tty();
  info.stop_signal = ParseStopSignal(image->config.stop_signal);
  info.runtime_handler = sandbox_info.runtime_handler;
  CR_ASSIGN_OR_RETURN(RuntimeTarget runtime, RuntimeFor(*deps_.config, info.runtime_handler));
  info.log_path = LogPath(sandbox_info, config, info.bundle);
  record.runtime = ContainerInfoToJson(info);
  auto lock = locks_.Acquire(record.id);
  // Reserve the name first: a clash fails before anything is made.
  CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  Cleanup drop_record([&] { (void)deps_.store->DeleteContainer(record.id); });

  const std::string rootfs = info.bundle + "/rootfs";
  CR_RETURN_IF_ERROR(MakeDirs(rootfs, 0700));
  Cleanup drop_bundle([&] {
    std::error_code ec;
    std::filesystem::remove_all(info.bundle, ec);
  });
  auto& snapshots = deps_.images->snapshotter();
  CR_RETURN_IF_ERROR(snapshots.Prepare(record.id, image->chain_id));
  Cleanup drop_snapshot([&] { (void)snapshots.Remove(record.id); });
  CR_RETURN_IF_ERROR(MountPodRootfs(snapshots, record.id, sandbox_config, sandbox_info, rootfs));
  Cleanup unmount([&] { (void)snapshots.Unmount(rootfs); });

  // Each portable volume: attached (lease taken, working copy at the published head, restored
  // atomically) and its working copy bind-mounted in place of the host path. A failure gives
  // every lease taken here back without publishing anything.
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
  for (const PortableMount& mount : portable) {
    CR_ASSIGN_OR_RETURN(std::string path,
                        deps_.volumes->Attach(mount.volume, sandbox_id, record.id));
    effective.mutable_mounts(mount.index)->set_host_path(path);
  }

  ContainerSpecInput input;
  input.container_id = record.id;
  input.config = &effective;
  input.image = &image->config;
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
  info.user = ContainerUserFromSpec(spec.process->user);
  record.runtime = ContainerInfoToJson(info);
  CR_RETURN_IF_ERROR(deps_.store->PutContainer(record));
  ClampOomScoreAdj(deps_.oom_score_adj_floor, spec);
  CR_CHECK(deps_.apparmor != nullptr);
  CR_ASSIGN_OR_RETURN(spec.process->apparmor_profile,
                      deps_.apparmor->ProfileFor(config.linux().security_context()));
  CR_RETURN_IF_ERROR(WriteFileAtomic(info.bundle + "/config.json", oci::SpecToJson(spec), 0600,
                                     Durability::kProcessCrash));
  CR_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(info.log_path).parent_path().string(), 0755));

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
  Cleanup drop_shim_dir([&] {
    std::error_code ec;
    std::filesystem::remove_all(info.shim_dir, ec);
  });
  CR_RETURN_IF_ERROR(deps_.shims->Launch(shim_options, std::chrono::seconds(60)));

  drop_shim_dir.Dismiss();
  detach.Dismiss();
  unmount.Dismiss();
  drop_snapshot.Dismiss();
  drop_bundle.Dismiss();
  drop_record.Dismiss();
  if (exit_watcher_) {
    if (auto watched = exit_watcher_->Watch(record.id, info.shim_dir); !watched.ok()) {
      log::Warn({.pod = sandbox_id, .ctr = record.id}, "cannot watch for its exit: {}",
                watched.error().message());
    }
  }
  PublishContainerEvent(record, v1::CONTAINER_CREATED_EVENT);
  resp.set_container_id(record.id);
  log::Info({.pod = sandbox_id, .ctr = record.id}, "container {} created from {}", record.name,
            info.image_name);
  return Ok();
}

}  // namespace cricket::cri
