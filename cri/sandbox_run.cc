// RunPodSandbox: a pod's network namespace and address, its name files, and the infra process
// that holds its shared PID/IPC/UTS namespaces.

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "cri/container_spec.h"
#include "cri/ids.h"
#include "cri/runtime_handlers.h"
#include "cri/service.h"
#include "cri/systemd_scopes.h"
#include "network/dns_files.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "oci/spec_validate.h"
#include "shim/shim_client.h"

namespace cricket::cri {
namespace {

// As containerd does: a pod that names no hostname gets the node's.
std::string NodeHostname() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

// CRI user namespaces (userns_options): NODE is the node's namespace, without mappings; POD
// takes exactly one uid and one gid mapping, each mapping container id 0 (as containerd and
// CRI-O check); CONTAINER and TARGET are not defined for user namespaces.
Result<void> ValidateUserns(const v1::UserNamespace& userns) {
  const std::string field = "config.linux.security_context.namespace_options.userns_options";
  switch (userns.mode()) {
    case v1::NODE:
      if (userns.uids_size() > 0 || userns.gids_size() > 0) {
        return Error(Code::kInvalidArgument, field + ": mode NODE takes no uids/gids mappings");
      }
      return Ok();
    case v1::POD:
      break;
    default:
      return Error(Code::kInvalidArgument,
                   field + ".mode " + v1::NamespaceMode_Name(userns.mode()) +
                       " is not supported for user namespaces (POD or NODE)");
  }
  for (const auto* maps : {&userns.uids(), &userns.gids()}) {
    const char* which = maps == &userns.uids() ? ".uids" : ".gids";
    if (maps->size() != 1) {
      return Error(Code::kInvalidArgument, field + which +
                                               ": exactly one mapping is supported, got " +
                                               std::to_string(maps->size()));
    }
    if ((*maps)[0].container_id() != 0 || (*maps)[0].length() == 0) {
      return Error(Code::kInvalidArgument,
                   field + which + ": the mapping must start at container id 0 and not be empty");
    }
  }
  return Ok();
}

bool PodUserns(const v1::PodSandboxConfig& config) {
  const auto& ns = config.linux().security_context().namespace_options();
  return ns.has_userns_options() && ns.userns_options().mode() == v1::POD;
}

// The infra process makes the pod's user namespace; the pod's pid, ipc, uts and mount
// namespaces are made with it, so it owns them. The network namespace stays the node's (as in
// containerd and CRI-O): sysfs and the cgroup tree cannot be mounted from inside, and pause
// needs neither.
void PutInfraInUserns(const v1::UserNamespace& userns, oci::Spec& spec) {
  spec.linux->namespaces.push_back({"user", ""});
  spec.linux->uid_mappings = OciMappings(userns.uids());
  spec.linux->gid_mappings = OciMappings(userns.gids());
  auto in_sys = [](const std::string& path) { return path.starts_with("/sys"); };
  std::erase_if(spec.mounts, [&](const oci::Mount& m) { return in_sys(m.destination); });
  std::erase_if(spec.linux->masked_paths, in_sys);
  std::erase_if(spec.linux->readonly_paths, in_sys);
}

Result<void> Validate(const v1::PodSandboxConfig& config) {
  const auto& md = config.metadata();
  for (auto [value, field] :
       {std::pair{&md.name(), "metadata.name"}, std::pair{&md.namespace_(), "metadata.namespace"},
        std::pair{&md.uid(), "metadata.uid"}}) {
    if (value->empty()) {
      return Error(Code::kInvalidArgument, std::string("config.") + field + " is empty");
    }
  }
  for (const auto& pm : config.port_mappings()) {
    if (pm.host_port() < 0 || pm.host_port() > 65535 || pm.container_port() <= 0 ||
        pm.container_port() > 65535) {
      return Error(Code::kInvalidArgument, "config.port_mappings: ports must be 1..65535");
    }
  }
  const auto& ns = config.linux().security_context().namespace_options();
  if (ns.has_userns_options()) {
    CR_RETURN_IF_ERROR(ValidateUserns(ns.userns_options()));
  }
  // The pod's sysctls are set in the infra container, in the namespaces WriteSandboxSpec gives
  // it: refused here, before anything is made, when one would change the node.
  const bool host_network = ns.network() == v1::NODE;
  const oci::OwnNamespaces own{!host_network, ns.ipc() != v1::NODE, !host_network,
                               PodUserns(config)};
  for (const auto& [key, value] : config.linux().sysctls()) {
    CR_RETURN_IF_ERROR(oci::CheckSysctl(key, own, "config.linux.sysctls[\"" + key + "\"]"));
  }
  return Ok();
}

network::PodNetworkConfig NetworkConfigOf(const std::string& id, const v1::PodSandboxConfig& c) {
  network::PodNetworkConfig net;
  net.sandbox_id = id;
  net.pod_name = c.metadata().name();
  net.pod_namespace = c.metadata().namespace_();
  net.pod_uid = c.metadata().uid();
  for (const auto& pm : c.port_mappings()) {
    if (pm.host_port() == 0) {
      continue;  // no host port asked: nothing to map
    }
    network::PortMapping m;
    m.protocol = pm.protocol() == v1::UDP    ? network::Protocol::kUdp
                 : pm.protocol() == v1::SCTP ? network::Protocol::kSctp
                                             : network::Protocol::kTcp;
    m.container_port = pm.container_port();
    m.host_port = pm.host_port();
    m.host_ip = pm.host_ip();
    net.port_mappings.push_back(m);
  }
  return net;
}

// The infra container: our static pause binary alone in a read-only rootfs, no capabilities.
Result<void> WriteInfraBundle(const std::string& bundle, const std::string& pause_binary,
                              const std::string& id, const v1::PodSandboxConfig& config,
                              const SandboxInfo& info) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* dir : {"rootfs/proc", "rootfs/dev", "rootfs/sys", "rootfs/tmp"}) {
    fs::create_directories(bundle + "/" + dir, ec);
  }
  // The binary is bind-mounted, not copied: a copy would cost every pod its size in /run's
  // RAM, and a file just written races exec (a fork elsewhere in cricketd may still hold the
  // writer's fd: ETXTBSY). The mount point is an empty file.
  CR_RETURN_IF_ERROR(
      WriteFileAtomic(bundle + "/rootfs/pause", "", 0755, Durability::kProcessCrash));
  oci::Spec spec = oci::DefaultSpec();
  oci::Mount pause;
  pause.destination = "/pause";
  pause.type = "bind";
  pause.source = pause_binary;
  pause.options = {"bind", "ro", "nosuid", "nodev"};
  spec.mounts.push_back(std::move(pause));
  spec.root->path = "rootfs";
  spec.root->readonly = true;
  spec.hostname = info.host_network ? "" : info.hostname;
  spec.process->args = {"/pause"};
  spec.process->env = {};
  spec.process->cwd = "/";
  spec.process->capabilities = oci::Capabilities{};
  spec.process->no_new_privileges = true;
  const auto& ns = config.linux().security_context().namespace_options();
  std::vector<oci::Namespace> namespaces = {{"mount", ""}};
  if (ns.pid() != v1::NODE) {
    namespaces.push_back({"pid", ""});
  }
  if (ns.ipc() != v1::NODE) {
    namespaces.push_back({"ipc", ""});
  }
  if (!info.host_network) {
    namespaces.push_back({"uts", ""});
    namespaces.push_back({"network", info.netns_path});
  }
  spec.linux->namespaces = std::move(namespaces);
  if (PodUserns(config)) {
    PutInfraInUserns(ns.userns_options(), spec);
  }
  spec.linux->cgroups_path = ContainerCgroupPath(info.cgroup_parent, id);
  for (const auto& [key, value] : config.linux().sysctls()) {
    spec.linux->sysctl[key] = value;
  }
  spec.annotations["io.kubernetes.cri.container-type"] = "sandbox";
  return WriteFileAtomic(bundle + "/config.json", oci::SpecToJson(spec), 0644,
                         Durability::kProcessCrash);
}

}  // namespace

Result<void> CriService::RunPodSandbox(const v1::RunPodSandboxRequest& req,
                                       v1::RunPodSandboxResponse& resp) {
  const v1::PodSandboxConfig& config = req.config();
  CR_RETURN_IF_ERROR(Validate(config));
  const auto& md = config.metadata();
  SandboxRecord record;
  record.id = NewId();
  record.name =
      md.name() + "_" + md.namespace_() + "_" + md.uid() + "_" + std::to_string(md.attempt());
  record.created_at_ns = NowUnixNanos();
  record.state = SandboxState::kNotReady;
  CR_RETURN_IF_ERROR(EncodeConfig(config, record));
  auto lock = locks_.Acquire(record.id);

  SandboxInfo info;
  info.state_dir = deps_.config->state + "/sandboxes/" + record.id;
  info.infra_shim_dir = deps_.config->state + "/shims/" + record.id.substr(0, 16);
  info.host_network = config.linux().security_context().namespace_options().network() == v1::NODE;
  info.hostname = config.hostname().empty() ? NodeHostname() : config.hostname();
  CR_ASSIGN_OR_RETURN(info.cgroup_parent,
                      PodCgroupParent(config.linux().cgroup_parent(), deps_.config->cgroup_driver));
  info.log_directory = config.log_directory();
  // Its containers' runtime; an unknown handler fails before anything is made.
  CR_ASSIGN_OR_RETURN(RuntimeTarget runtime, RuntimeFor(*deps_.config, req.runtime_handler()));
  if (!runtime.binary.empty() && PodUserns(config)) {
    // The pod's user namespace is joined the way Cricket's runtime does it (last, after the
    // rootfs); an external runtime is not advertised to do so.
    return Error(Code::kInvalidArgument, "runtime_handler \"" + req.runtime_handler() +
                                             "\" does not support user namespaces");
  }
  info.runtime_handler = req.runtime_handler();
  if (!info.host_network && deps_.network.ok()) {
    info.netns_path = (*deps_.network)->NetnsPath(record.id);  // where SetupPod will pin it
  }
  // Reserve the name first: a clash must fail before anything is made. The record holds every
  // path the pod will use from this first write on: a crash at any later step leaves a NotReady
  // pod that Status, Stop and Remove handle (issue #14), not one that decodes as corrupt.
  EncodeInfo(info, record);
  CR_RETURN_IF_ERROR(deps_.store->PutSandbox(record));
  Cleanup drop_record([&] { (void)deps_.store->DeleteSandbox(record.id); });
  CR_FAILPOINT(kSandboxRunAfterRecord);
  CR_RETURN_IF_ERROR(MakeDirs(info.state_dir, 0711));
  Cleanup drop_dir([&] {
    std::error_code ec;
    std::filesystem::remove_all(info.state_dir, ec);
  });
  CR_FAILPOINT(kSandboxRunAfterStateDir);

  network::PodNetworkConfig net = NetworkConfigOf(record.id, config);
  std::optional<Cleanup<std::function<void()>>> unwire;
  if (!info.host_network) {
    if (!deps_.network.ok()) {
      return deps_.network.error().Wrap("pod network");
    }
    CR_ASSIGN_OR_RETURN(network::PodNetworkStatus status, (*deps_.network)->SetupPod(net));
    unwire.emplace([&] { (void)(*deps_.network)->TeardownPod(net); });
    info.ips = status.ips;
  }
  CR_FAILPOINT(kSandboxRunAfterNetwork);

  network::DnsConfig dns{
      {config.dns_config().servers().begin(), config.dns_config().servers().end()},
      {config.dns_config().searches().begin(), config.dns_config().searches().end()},
      {config.dns_config().options().begin(), config.dns_config().options().end()}};
  CR_ASSIGN_OR_RETURN(network::PodNameFiles files,
                      network::WritePodNameFiles(info.state_dir, info.hostname,
                                                 info.ips.empty() ? "" : info.ips.front(), dns,
                                                 "/etc/resolv.conf"));
  info.resolv_conf = files.resolv_conf;
  info.hosts = files.hosts;
  info.hostname_file = files.hostname;
  CR_FAILPOINT(kSandboxRunAfterNameFiles);

  const std::string bundle = info.state_dir + "/infra";
  CR_RETURN_IF_ERROR(WriteInfraBundle(bundle, deps_.pause_binary, record.id, config, info));
  CR_FAILPOINT(kSandboxRunAfterInfraBundle);
  shim::ShimOptions shim_options;
  shim_options.id = record.id;
  shim_options.bundle = bundle;
  shim_options.state_dir = info.infra_shim_dir;
  shim_options.log_path = info.state_dir + "/infra.log";
  shim_options.runtime_root = deps_.config->state + "/runtime";
  auto infra = deps_.shims->Connect(info.infra_shim_dir);
  Cleanup stop_infra([&] {
    (void)infra->Delete(/*force=*/true);
    std::error_code ec;
    std::filesystem::remove_all(info.infra_shim_dir, ec);
  });
  CR_RETURN_IF_ERROR(deps_.shims->Launch(shim_options, std::chrono::seconds(60)));
  CR_FAILPOINT(kSandboxRunAfterShimLaunch);
  CR_RETURN_IF_ERROR(infra->Start());
  CR_FAILPOINT(kSandboxRunAfterInfraStart);
  CR_ASSIGN_OR_RETURN(shim::ShimStatus status, infra->Status());
  info.infra_pid = status.pid;

  record.state = SandboxState::kReady;
  EncodeInfo(info, record);
  CR_FAILPOINT(kSandboxRunBeforeFinalRecord);
  CR_RETURN_IF_ERROR(deps_.store->PutSandbox(record));
  stop_infra.Dismiss();
  if (unwire) {
    unwire->Dismiss();
  }
  drop_dir.Dismiss();
  drop_record.Dismiss();
  resp.set_pod_sandbox_id(record.id);
  log::Info({.pod = record.id}, "sandbox {} ready ip={}", record.name,
            info.ips.empty() ? "host" : info.ips.front());
  return Ok();
}

}  // namespace cricket::cri
