#pragma once

// BridgeNetwork: the built-in pod network, no external binaries. A Linux bridge (default
// `cricket0`) holding the gateway address of the pod range; per pod a veth pair whose host end
// is on the bridge and whose other end is `eth0` inside the pod's namespace with a leased
// address and a default route via the gateway. Traffic leaving the range is masqueraded;
// hostPorts are DNAT rules (HostPorts). All link, address and route work is netlink.
// Thread-safe.

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "network/host_ports.h"
#include "network/ipam.h"
#include "network/ipv4.h"
#include "network/pod_network.h"

namespace cricket::network {

struct BridgeOptions {
  std::string bridge = "cricket0";
  Ipv4Cidr subnet = {{0x0a580000}, 16};  // 10.88.0.0/16, until SetSubnet
  int mtu = 1500;
  // Leases and host-port claims live below this directory (under --root).
  std::string data_dir;
};

class BridgeNetwork final : public PodNetwork {
 public:
  // kNotFound when iptables is missing; kInvalidArgument for a bridge name over 15 bytes.
  static Result<std::unique_ptr<BridgeNetwork>> Create(BridgeOptions options);

  Result<void> Ready() override;
  Result<PodNetworkStatus> Setup(const PodNetworkConfig& config) override;
  Result<void> Teardown(const PodNetworkConfig& config) override;
  Result<void> Reconcile(const std::set<std::string>& live_sandbox_ids) override;

  // The range new pods get addresses from.
  Ipv4Cidr subnet();
  // Switches the range of new pods to `subnet` (kubelet's pod CIDR; bridge_subnet.cc). Pods
  // already wired keep their address, gateway and masquerade rule: the bridge keeps the old
  // gateway address beside the new one, and their leases are released as usual. The same range
  // again is a no-op. kFailedPrecondition when the new gateway address is leased to a pod of an
  // older range. Checking the range against the node's routes is the caller's job.
  Result<void> SetSubnet(const Ipv4Cidr& subnet);

  // Removes the bridge, its leases, its veths and Cricket's iptables rules for it (the shared
  // chains too once no bridge uses them). Only options.bridge and options.data_dir matter:
  // leases and masquerade rules of any subnet go. For tests and uninstall. ip_forward is left
  // as is.
  Result<void> Destroy();

 private:
  BridgeNetwork(BridgeOptions options, Ipam ipam, Iptables iptables, HostPorts host_ports);
  struct ActiveBridge {
    int index = 0;
    Ipv4Cidr subnet;  // the range of new pods when the bridge was made ready
  };
  // Creates the bridge, its address, forwarding and masquerade once per process and subnet.
  Result<ActiveBridge> EnsureBridge();
  Result<void> WireVeth(const PodNetworkConfig& config, Ipv4 ip, const ActiveBridge& bridge);
  std::vector<std::string> MasqueradeRule(const Ipv4Cidr& subnet) const;

  BridgeOptions options_;
  Ipam ipam_;
  Iptables iptables_;
  HostPorts host_ports_;
  std::mutex mu_;
  Ipv4Cidr subnet_;            // Guarded by mu_.
  bool bridge_ready_ = false;  // Guarded by mu_.
};

}  // namespace cricket::network
