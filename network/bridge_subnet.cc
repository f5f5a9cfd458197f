// BridgeNetwork::SetSubnet: kubelet's pod CIDR replaces the bridge's range for new pods.

#include "common/log.h"
#include "network/bridge_network.h"

namespace cricket::network {

Result<void> BridgeNetwork::SetSubnet(const Ipv4Cidr& subnet) {
  std::lock_guard lock(mu_);
  if (subnet == subnet_) {
    return Ok();
  }
  // The new gateway goes on the bridge; a pod of the old range holding that address would lose
  // its traffic to the bridge.
  CR_ASSIGN_OR_RETURN(auto leases, ipam_.AllLeases());
  if (auto held = leases.find(subnet.gateway()); held != leases.end()) {
    return Error(Code::kFailedPrecondition,
                 "pod CIDR " + subnet.ToString() + ": its gateway address " +
                     subnet.gateway().ToString() + " is leased to pod " + held->second);
  }
  log::Info({}, "bridge {}: new pods get addresses from {} instead of {}; running pods keep theirs",
            options_.bridge, subnet.ToString(), subnet_.ToString());
  subnet_ = subnet;
  // The next Setup adds the new gateway address and masquerade rule (EnsureBridge).
  bridge_ready_ = false;
  return Ok();
}

}  // namespace cricket::network
