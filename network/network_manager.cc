#include "network/network_manager.h"

#include <filesystem>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "network/bridge_network.h"
#include "network/cni_config.h"
#include "network/cni_network.h"
#include "network/netns.h"
#include "network/pod_cidr_file.h"

namespace cricket::network {

namespace {

// The pod CIDR kubelet sent before the restart ("" if none, or unreadable: kubelet sends it
// again when it restarts, and the configured subnet serves until then).
std::string SavedPodCidr(const std::string& data_dir) {
  auto saved = LoadPodCidr(data_dir);
  if (!saved.ok()) {
    log::Warn({}, "saved pod CIDR ignored: {}", saved.error().message());
    return "";
  }
  return saved->value_or("");
}

// The bridge's range: kubelet's saved pod CIDR unless network.subnet is set explicitly.
Ipv4Cidr BridgeSubnet(const NetworkConfig& config, Ipv4Cidr configured,
                      const std::string& saved_cidr) {
  if (config.subnet_explicit || saved_cidr.empty()) {
    return configured;
  }
  auto cidrs = ParsePodCidrs(saved_cidr);
  if (!cidrs.ok() || !cidrs->ipv4) {
    log::Warn({}, "saved pod CIDR \"{}\" ignored: {}", saved_cidr,
              cidrs.ok() ? "no IPv4 range" : cidrs.error().message());
    return configured;
  }
  log::Info({}, "pod range {} from kubelet's pod CIDR (saved)", cidrs->ipv4->ToString());
  return *cidrs->ipv4;
}

}  // namespace

Result<std::unique_ptr<NetworkManager>> NetworkManager::Create(
    const NetworkManagerOptions& options) {
  const NetworkConfig& config = options.config;
  auto subnet = Ipv4Cidr::Parse(config.subnet);
  if (!subnet.ok()) {
    return subnet.error().Wrap("network.subnet");
  }
  CR_RETURN_IF_ERROR(MakeDirs(options.netns_dir, 0711));
  std::string backend = config.backend;
  if (backend == "auto") {
    // A CNI configuration present at start-up means the node's operator chose CNI; so does a
    // template, whose configuration UpdateRuntimeConfig writes once kubelet sends the pod CIDR.
    auto found = LoadCniConfigDir(config.cni_conf_dir);
    backend =
        found.ok() || found.error().code() != Code::kNotFound || !config.cni_conf_template.empty()
            ? "cni"
            : "bridge";
  }
  std::string saved_cidr = SavedPodCidr(options.data_dir);
  std::unique_ptr<PodNetwork> impl;
  if (backend == "cni") {
    CniOptions cni;
    cni.conf_dir = config.cni_conf_dir;
    cni.bin_dirs = config.cni_bin_dirs;
    cni.cache_dir = options.data_dir + "/cni-cache";
    CR_ASSIGN_OR_RETURN(impl, CniNetwork::Create(std::move(cni)));
  } else if (backend == "bridge") {
    BridgeOptions bridge;
    bridge.bridge = config.bridge;
    bridge.subnet = BridgeSubnet(config, *subnet, saved_cidr);
    bridge.mtu = config.mtu;
    bridge.data_dir = options.data_dir + "/" + config.bridge;
    CR_ASSIGN_OR_RETURN(impl, BridgeNetwork::Create(std::move(bridge)));
  } else {
    return Error(Code::kInvalidArgument,
                 "network.backend: expected auto, bridge or cni, got \"" + backend + "\"");
  }
  log::Info({}, "pod network backend: {}", backend);
  return std::unique_ptr<NetworkManager>(
      new NetworkManager(backend, std::move(impl), options, std::move(saved_cidr)));
}

std::string NetworkManager::NetnsPath(const std::string& sandbox_id) const {
  return netns_dir_ + "/" + sandbox_id;
}

Result<void> NetworkManager::Ready() { return backend_->Ready(); }

Result<PodNetworkStatus> NetworkManager::SetupPod(PodNetworkConfig config) {
  if (config.sandbox_id.empty() || config.sandbox_id.find('/') != std::string::npos) {
    return Error(Code::kInvalidArgument, "invalid sandbox id \"" + config.sandbox_id + "\"");
  }
  config.netns_path = NetnsPath(config.sandbox_id);
  CR_RETURN_IF_ERROR(CreateNetns(config.netns_path));
  Cleanup remove_netns([&] { (void)RemoveNetns(config.netns_path); });
  CR_FAILPOINT(kNetworkSetupAfterNetns);
  CR_ASSIGN_OR_RETURN(PodNetworkStatus status, backend_->Setup(config));
  remove_netns.Dismiss();
  return status;
}

Result<void> NetworkManager::TeardownPod(PodNetworkConfig config) {
  config.netns_path = NetnsPath(config.sandbox_id);
  CR_RETURN_IF_ERROR(backend_->Teardown(config));
  return RemoveNetns(config.netns_path);
}

Result<void> NetworkManager::Reconcile(const std::set<std::string>& live) {
  CR_RETURN_IF_ERROR(backend_->Reconcile(live));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(netns_dir_, ec)) {
    std::string id = entry.path().filename().string();
    if (!live.contains(id)) {
      log::Info({.pod = id}, "removing orphaned network namespace");
      CR_RETURN_IF_ERROR(RemoveNetns(entry.path().string()));
    }
  }
  return Ok();
}

}  // namespace cricket::network
