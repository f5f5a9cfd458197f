#include "network/bridge_network.h"

#include <linux/if.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "network/names.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace cricket::network {
namespace {

constexpr const char* kPodInterface = "eth0";

// The masquerade rule's owner tag: Destroy finds the rule by it, whatever subnet it was made for.
std::string MasqueradeComment(const std::string& bridge) { return "cricket masquerade " + bridge; }

}  // namespace

Result<std::unique_ptr<BridgeNetwork>> BridgeNetwork::Create(BridgeOptions options) {
  if (options.bridge.empty() || options.bridge.size() >= IFNAMSIZ) {
    return Error(Code::kInvalidArgument,
                 "bridge name \"" + options.bridge + "\" must be 1 to 15 bytes");
  }
  CR_ASSIGN_OR_RETURN(Iptables iptables, Iptables::Find());
  CR_ASSIGN_OR_RETURN(Ipam ipam, Ipam::Open(options.data_dir + "/leases", options.subnet));
  CR_ASSIGN_OR_RETURN(ClaimDir ports, ClaimDir::Open(options.data_dir + "/hostports"));
  HostPorts host_ports(iptables, std::move(ports), options.bridge);
  return std::unique_ptr<BridgeNetwork>(
      new BridgeNetwork(std::move(options), std::move(ipam), iptables, std::move(host_ports)));
}

BridgeNetwork::BridgeNetwork(BridgeOptions options, Ipam ipam, Iptables iptables,
                             HostPorts host_ports)
    : options_(std::move(options)),
      ipam_(std::move(ipam)),
      iptables_(std::move(iptables)),
      host_ports_(std::move(host_ports)),
      subnet_(options_.subnet) {}

std::vector<std::string> BridgeNetwork::MasqueradeRule(const Ipv4Cidr& range) const {
  const std::string subnet = range.ToString();
  const std::string comment = MasqueradeComment(options_.bridge);
  return {"-s",      subnet,      "!",     "-d", subnet,      "-m",
          "comment", "--comment", comment, "-j", "MASQUERADE"};
}

Result<BridgeNetwork::ActiveBridge> BridgeNetwork::EnsureBridge() {
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  auto index = nl.LinkIndex(options_.bridge);
  if (!index.ok()) {
    auto created = nl.CreateBridge(options_.bridge, options_.mtu);
    if (!created.ok() && created.error().code() != Code::kAlreadyExists) {
      return created.error();
    }
    CR_ASSIGN_OR_RETURN(index, nl.LinkIndex(options_.bridge));
    bridge_ready_ = false;
  }
  if (bridge_ready_) {
    return ActiveBridge{*index, subnet_};
  }
  // After SetSubnet the old gateway address stays: the pods of the old range route through it.
  auto addressed = nl.AddAddress(*index, subnet_.gateway(), subnet_.prefix);
  if (!addressed.ok() && addressed.error().code() != Code::kAlreadyExists) {
    return addressed.error();
  }
  CR_RETURN_IF_ERROR(nl.SetUp(*index));
  CR_RETURN_IF_ERROR(WriteKernelFile("/proc/sys/net/ipv4/ip_forward", "1"));
  CR_RETURN_IF_ERROR(iptables_.EnsureRule("nat", "POSTROUTING", MasqueradeRule(subnet_)));
  CR_RETURN_IF_ERROR(host_ports_.EnsureBase());
  bridge_ready_ = true;
  log::Info({}, "bridge {} ready with gateway {}/{}", options_.bridge, subnet_.gateway().ToString(),
            subnet_.prefix);
  return ActiveBridge{*index, subnet_};
}

Ipv4Cidr BridgeNetwork::subnet() {
  std::lock_guard lock(mu_);
  return subnet_;
}

Result<void> BridgeNetwork::Ready() {
  // Usable when netlink answers and iptables runs; the bridge itself is made on first use.
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  CR_RETURN_IF_ERROR(nl.ListLinks());
  return iptables_.ListChains("nat").ok()
             ? Ok()
             : Result<void>(Error(Code::kUnavailable, "iptables cannot list the nat table"));
}

Result<void> BridgeNetwork::WireVeth(const PodNetworkConfig& config, Ipv4 ip,
                                     const ActiveBridge& bridge) {
  CR_ASSIGN_OR_RETURN(UniqueFd netns, OpenNetns(config.netns_path));
  const std::string host_veth = HostVethName(config.sandbox_id);
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  CR_RETURN_IF_ERROR(nl.CreateVeth(host_veth, kPodInterface, netns.get(), options_.mtu));
  Cleanup undo([&] { (void)nl.DeleteLink(host_veth); });
  CR_ASSIGN_OR_RETURN(int host_index, nl.LinkIndex(host_veth));
  CR_RETURN_IF_ERROR(nl.SetMaster(host_index, bridge.index));
  CR_RETURN_IF_ERROR(nl.SetUp(host_index));
  CR_RETURN_IF_ERROR(RunInNetns(netns.get(), [&]() -> Result<void> {
    CR_ASSIGN_OR_RETURN(Netlink pod_nl, Netlink::Open());
    CR_ASSIGN_OR_RETURN(int eth0, pod_nl.LinkIndex(kPodInterface));
    CR_RETURN_IF_ERROR(pod_nl.AddAddress(eth0, ip, bridge.subnet.prefix));
    CR_RETURN_IF_ERROR(pod_nl.SetUp(eth0));
    return pod_nl.AddDefaultRoute(bridge.subnet.gateway());
  }));
  undo.Dismiss();
  return Ok();
}

Result<PodNetworkStatus> BridgeNetwork::Setup(const PodNetworkConfig& config) {
  if (config.sandbox_id.empty() || config.netns_path.empty()) {
    return Error(Code::kInvalidArgument, "pod network setup needs a sandbox id and a netns path");
  }
  CR_ASSIGN_OR_RETURN(ActiveBridge bridge, EnsureBridge());
  CR_ASSIGN_OR_RETURN(Ipv4 ip, ipam_.Allocate(config.sandbox_id, bridge.subnet));
  Cleanup release([&] { (void)ipam_.Release(config.sandbox_id); });
  CR_FAILPOINT(kNetworkSetupAfterLease);
  CR_RETURN_IF_ERROR(WireVeth(config, ip, bridge));
  Cleanup unwire([&] {
    if (auto nl = Netlink::Open(); nl.ok()) {
      (void)nl->DeleteLink(HostVethName(config.sandbox_id));
    }
  });
  CR_FAILPOINT(kNetworkSetupAfterVeth);
  CR_RETURN_IF_ERROR(host_ports_.Add(config.sandbox_id, ip, config.port_mappings));
  Cleanup unmap([&] { (void)host_ports_.Remove(config.sandbox_id); });
  CR_FAILPOINT(kNetworkSetupAfterHostPorts);
  unmap.Dismiss();
  unwire.Dismiss();
  release.Dismiss();
  PodNetworkStatus status;
  status.ips.push_back(ip.ToString());
  status.gateway = bridge.subnet.gateway().ToString();
  return status;
}

Result<void> BridgeNetwork::Teardown(const PodNetworkConfig& config) {
  CR_RETURN_IF_ERROR(host_ports_.Remove(config.sandbox_id));
  CR_FAILPOINT(kNetworkTeardownAfterHostPorts);
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  // Deleting the host end deletes the pair; with the namespace gone it is gone already.
  auto deleted = nl.DeleteLink(HostVethName(config.sandbox_id));
  if (!deleted.ok() && deleted.error().code() != Code::kNotFound) {
    return deleted;
  }
  CR_FAILPOINT(kNetworkTeardownAfterVeth);
  CR_RETURN_IF_ERROR(ipam_.Release(config.sandbox_id));
  CR_FAILPOINT(kNetworkTeardownAfterLease);
  return Ok();
}

Result<void> BridgeNetwork::Reconcile(const std::set<std::string>& live_sandbox_ids) {
  std::set<std::string> live_veths;
  for (const auto& id : live_sandbox_ids) {
    live_veths.insert(HostVethName(id));
  }
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  auto bridge = nl.LinkIndex(options_.bridge);
  if (bridge.ok()) {
    CR_ASSIGN_OR_RETURN(auto links, nl.ListLinks());
    for (const auto& link : links) {
      if (link.master == *bridge && link.kind == "veth" && !live_veths.contains(link.name)) {
        log::Info({}, "removing orphaned veth {}", link.name);
        auto deleted = nl.DeleteLink(link.name);
        if (!deleted.ok() && deleted.error().code() != Code::kNotFound) {
          return deleted;
        }
      }
    }
  }
  // Every range's leases: orphans of a range used before SetSubnet go too.
  CR_ASSIGN_OR_RETURN(auto leases, ipam_.AllLeases());
  for (const auto& [ip, owner] : leases) {
    if (!live_sandbox_ids.contains(owner)) {
      log::Info({.pod = owner}, "releasing orphaned lease {}", ip.ToString());
      CR_RETURN_IF_ERROR(ipam_.Release(owner));
    }
  }
  return host_ports_.Reconcile(live_sandbox_ids);
}

Result<void> BridgeNetwork::Destroy() {
  CR_RETURN_IF_ERROR(Reconcile({}));
  // By owner, not by options_.subnet: the bridge may have been made with another subnet (an
  // older config, or a caller that did not repeat it), and its rule must go all the same.
  CR_RETURN_IF_ERROR(ipam_.ReleaseAll());
  CR_RETURN_IF_ERROR(
      iptables_.DeleteRulesWithComment("nat", "POSTROUTING", MasqueradeComment(options_.bridge)));
  CR_RETURN_IF_ERROR(host_ports_.RemoveBase());
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  auto deleted = nl.DeleteLink(options_.bridge);
  if (!deleted.ok() && deleted.error().code() != Code::kNotFound) {
    return deleted;
  }
  std::lock_guard lock(mu_);
  bridge_ready_ = false;
  return Ok();
}

}  // namespace cricket::network
