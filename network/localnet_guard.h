#pragma once

// The node-loopback guard (CVE-2020-8558 class). hostPort on 127.0.0.1 needs route_localnet=1
// on the pod bridge, and with it the kernel no longer treats a packet that arrives on the bridge
// for 127.0.0.0/8 as a martian: a pod that crafts a frame to the bridge's MAC with destination
// 127.0.0.1 reaches every service bound to the node's loopback. The guard drops such packets
// unless conntrack says they belong to a connection the node made or were DNAT-ed (the replies
// and hostPort traffic route_localnet exists for), the match of kube-proxy's KUBE-FIREWALL rule:
//
//   filter INPUT (first) -> CRICKET-FIREWALL:
//     -d 127.0.0.0/8 -i <bridge> -m comment --comment "cricket localnet guard <bridge>"
//     -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
//
// Matching the bridge rather than kube-proxy's `! -s 127.0.0.0/8` also drops a pod's packets
// with a forged loopback source. One rule per bridge, found by its comment; the chain and its
// jump go with the last rule. Whoever sets route_localnet installs the guard first and removes
// it only after route_localnet is off or the bridge is gone.

#include <string>
#include <vector>

#include "common/result.h"
#include "network/iptables.h"

namespace cricket::network {

inline constexpr const char* kFirewallChain = "CRICKET-FIREWALL";
// As `bridge`: every interface but lo (`! -i lo`), for bridges Cricket does not know, such as
// the one a CNI plugin made.
inline constexpr const char* kAllButLoopback = "";

// The drop rule for `bridge`, as given to iptables after the chain name.
std::vector<std::string> LocalnetGuardRule(const std::string& bridge);

// Creates the chain, puts its jump at the top of filter INPUT (before any ACCEPT of the node's
// own firewall) and appends the bridge's rule. Idempotent; kInternal with iptables' message.
Result<void> EnsureLocalnetGuard(Iptables& iptables, const std::string& bridge);

// Removes the bridge's rule whatever its other arguments, then the chain and its jump if no
// other bridge's rule is left. Idempotent.
Result<void> RemoveLocalnetGuard(Iptables& iptables, const std::string& bridge);

}  // namespace cricket::network
