#pragma once

// The IPv4 ranges this node already uses: the routes of the main table and the addresses of its
// interfaces. A pod range that overlaps one of them would make the node send that traffic to
// its pods (or the pods' replies elsewhere), so UpdateRuntimeConfig refuses it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "network/ipv4.h"

namespace cricket::network {

struct HostRange {
  enum class Kind { kRoute, kAddress };
  Kind kind = Kind::kRoute;
  Ipv4Cidr range;      // for an address: the address itself and its prefix (not masked)
  std::string device;  // "*" for a route without one (unreachable, blackhole)

  // "route 192.168.0.0/16 dev eth0", "address 10.0.2.15/24 on eth0".
  std::string Describe() const;
};

// The routes of /proc/net/route (the main table, IPv4). kInvalidArgument for a line that is
// not "<iface> <dest hex> <gw hex> <flags> <refcnt> <use> <metric> <mask hex> ...".
Result<std::vector<HostRange>> ParseProcNetRoute(std::string_view text);

// The node's routes (/proc/net/route) and interface addresses (getifaddrs) in the calling
// thread's network namespace.
Result<std::vector<HostRange>> ListHostRanges();

// The first of `host` that `candidate` overlaps. Skipped: anything on `own_bridge` (the pod
// range being replaced lives there) and default routes (every range is inside 0.0.0.0/0; a pod
// route is more specific and wins).
std::optional<HostRange> FindOverlap(const Ipv4Cidr& candidate, const std::vector<HostRange>& host,
                                     std::string_view own_bridge);

}  // namespace cricket::network
