// NetworkManager::UpdatePodCidr: what kubelet's pod CIDR (UpdateRuntimeConfig) changes.
//
// containerd uses the CIDR only to fill its CNI conf_template, and only while no other CNI
// configuration is loaded; CRI-O ignores it. Cricket does the same for CNI, and with its own
// bridge serves new pods from the CIDR, unless network.subnet is set in the config file: an
// explicit setting of the node's operator wins over kubelet, as a present CNI configuration
// wins over containerd's template.

#include <filesystem>

#include "common/cleanup.h"
#include "common/log.h"
#include "network/bridge_network.h"
#include "network/cni_conf_template.h"
#include "network/cni_config.h"
#include "network/host_ranges.h"
#include "network/network_manager.h"
#include "network/pod_cidr_file.h"

namespace cricket::network {

Result<void> NetworkManager::UpdatePodCidr(const std::string& pod_cidr) {
  CR_ASSIGN_OR_RETURN(PodCidrs cidrs, ParsePodCidrs(pod_cidr));
  std::lock_guard lock(cidr_mu_);
  if (cidrs.ToString() == pod_cidr_) {
    log::Debug({}, "pod CIDR {} unchanged", pod_cidr_);
    return Ok();
  }
  CR_RETURN_IF_ERROR(backend_name_ == "bridge" ? ApplyToBridge(cidrs) : ApplyToCni(cidrs));
  pod_cidr_ = cidrs.ToString();
  return Ok();
}

std::string NetworkManager::pod_cidr() {
  std::lock_guard lock(cidr_mu_);
  return pod_cidr_;
}

Result<void> NetworkManager::ApplyToBridge(const PodCidrs& cidrs) {
  const std::string text = cidrs.ToString();
  if (config_.subnet_explicit) {
    log::Info({},
              "pod CIDR {} from kubelet not used: network.subnet = {} is set in the config file "
              "and wins (remove it to let kubelet's pod CIDR decide)",
              text, config_.subnet);
    // Saved all the same: used from the next start on if the setting goes.
    return SavePodCidr(data_dir_, text);
  }
  if (!cidrs.ipv4) {
    return Error(Code::kInvalidArgument,
                 "pod CIDR \"" + text +
                     "\" has no IPv4 range: the built-in bridge serves IPv4 only (IPv6 pods "
                     "need network.backend = \"cni\")");
  }
  if (cidrs.has_ipv6) {
    log::Warn({}, "pod CIDR {}: the built-in bridge serves IPv4 only, pods get no IPv6 address",
              text);
  }
  CR_ASSIGN_OR_RETURN(std::vector<HostRange> host, ListHostRanges());
  if (auto overlap = FindOverlap(*cidrs.ipv4, host, config_.bridge); overlap) {
    return Error(Code::kInvalidArgument, "pod CIDR " + cidrs.ipv4->ToString() +
                                             " overlaps the node's " + overlap->Describe());
  }
  auto& bridge = static_cast<BridgeNetwork&>(*backend_);
  const Ipv4Cidr previous = bridge.subnet();
  CR_RETURN_IF_ERROR(bridge.SetSubnet(*cidrs.ipv4));
  // Not saved, not used: a restart must not serve a range this run refused to keep.
  Cleanup revert([&] { (void)bridge.SetSubnet(previous); });
  CR_RETURN_IF_ERROR(SavePodCidr(data_dir_, text));
  revert.Dismiss();
  return Ok();
}

Result<void> NetworkManager::ApplyToCni(const PodCidrs& cidrs) {
  const std::string text = cidrs.ToString();
  if (config_.cni_conf_template.empty()) {
    log::Info({},
              "pod CIDR {} from kubelet recorded; the CNI configuration in {} decides pod "
              "addresses (no network.cni_conf_template)",
              text, config_.cni_conf_dir);
    return SavePodCidr(data_dir_, text);
  }
  // As containerd: a configuration someone else placed (a CNI daemonset, the operator) wins over
  // the template. Cricket's own file is rewritten, so a new CIDR reaches new pods.
  auto current = LoadCniConfigDir(config_.cni_conf_dir);
  if (current.ok() && std::filesystem::path(current->source).filename() != kGeneratedCniConfName) {
    log::Info({}, "pod CIDR {}: CNI configuration {} is in place, {} not used", text,
              current->source, config_.cni_conf_template);
    return SavePodCidr(data_dir_, text);
  }
  CR_ASSIGN_OR_RETURN(std::string written, WriteCniConfFromTemplate(config_.cni_conf_template,
                                                                    config_.cni_conf_dir, cidrs));
  log::Info({}, "wrote {} from {} for pod CIDR {}", written, config_.cni_conf_template, text);
  return SavePodCidr(data_dir_, text);
}

}  // namespace cricket::network
