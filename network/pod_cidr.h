#pragma once

// The node's pod CIDR as kubelet sends it through UpdateRuntimeConfig
// (runtime_config.network_config.pod_cidr): one range, or the node's ranges joined with ","
// (dual-stack: "10.244.1.0/24,fd00:10:244:1::/64"), as containerd splits it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "network/ipv4.h"

namespace cricket::network {

struct PodCidrs {
  std::vector<std::string> ranges;  // every range, trimmed, in kubelet's order
  std::optional<Ipv4Cidr> ipv4;     // the first IPv4 range, the only one the bridge can serve
  bool has_ipv6 = false;

  // The ranges joined with "," (what is persisted and compared).
  std::string ToString() const;
  // The default routes the ranges need: "0.0.0.0/0" when one is IPv4, then "::/0" when one is
  // IPv6 (containerd's .Routes for CNI templates).
  std::vector<std::string> DefaultRoutes() const;
};

// kInvalidArgument "invalid CIDR \"<range>\": <why>" for an empty list, an empty item, a bad
// address or prefix, host bits set, or an IPv4 prefix over 30 (no room for a gateway and a pod).
Result<PodCidrs> ParsePodCidrs(std::string_view text);

}  // namespace cricket::network
