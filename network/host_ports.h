#pragma once

// HostPorts: a pod's port mappings as iptables DNAT rules in chains Cricket owns, reachable on
// every node address and on 127.0.0.1 (route_localnet on the bridge plus a masquerade of
// loopback-sourced traffic, as the CNI portmap plugin does).
//
//   nat PREROUTING/OUTPUT (dst-type LOCAL) -> CRICKET-HOSTPORTS -> CRICKET-HP-<hash(sandbox)>
//   nat POSTROUTING -> CRICKET-POSTROUTING: -s 127.0.0.0/8 -o <bridge> -j MASQUERADE
//   filter INPUT -> CRICKET-FIREWALL: the localnet guard (network/localnet_guard.h), which
//     keeps route_localnet from opening the node's own loopback to the pods
//
// Each host port is claimed in a ClaimDir first (key "<proto>-<port>"), so a port taken by
// another pod is refused before any rule is written, also across restarts. The host_ip of a
// mapping narrows the DNAT match but not the claim: one pod per protocol and port.

#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "network/claims.h"
#include "network/iptables.h"
#include "network/ipv4.h"
#include "network/pod_network.h"

namespace cricket::network {

inline constexpr const char* kHostPortsChain = "CRICKET-HOSTPORTS";
inline constexpr const char* kPostroutingChain = "CRICKET-POSTROUTING";
inline constexpr const char* kSandboxChainPrefix = "CRICKET-HP-";

// Claims every mapping's "<proto>-<port>" for `sandbox_id` in `claims`, or none of them:
// kAlreadyExists naming the port and its holder; kInvalidArgument for a port outside 1..65535
// or a bad host_ip. Claims the sandbox already holds are kept. Shared by both backends.
Result<void> ClaimHostPorts(const ClaimDir& claims, const std::string& sandbox_id,
                            const std::vector<PortMapping>& mappings);

class HostPorts {
 public:
  HostPorts(Iptables iptables, ClaimDir claims, std::string bridge)
      : iptables_(std::move(iptables)), claims_(std::move(claims)), bridge_(std::move(bridge)) {}

  // The shared chains, jumps, the localnet guard, route_localnet and the loopback masquerade.
  // Idempotent.
  Result<void> EnsureBase();
  // Claims the ports and installs the DNAT rules. kAlreadyExists naming the port and its
  // holder; kInvalidArgument for a port outside 1..65535. On failure nothing is left.
  Result<void> Add(const std::string& sandbox_id, Ipv4 pod_ip,
                   const std::vector<PortMapping>& mappings);
  // Removes the sandbox's chain, its jump and its claims. Idempotent.
  Result<void> Remove(const std::string& sandbox_id);
  // Undoes EnsureBase for this bridge (route_localnet off, then its guard); the shared chains
  // and their jumps go too once no bridge uses them. Idempotent.
  Result<void> RemoveBase();
  // Removes chains and claims of sandboxes not in `live`; re-installs the localnet guard if
  // the bridge has route_localnet on.
  Result<void> Reconcile(const std::set<std::string>& live);

  static std::string SandboxChain(const std::string& sandbox_id);

 private:
  std::vector<std::string> JumpRule(const std::string& sandbox_id) const;

  Iptables iptables_;
  ClaimDir claims_;
  std::string bridge_;
};

}  // namespace cricket::network
