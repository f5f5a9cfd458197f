#pragma once

// What a soak run of one cricketd (hack/bench/soak_bench.cc) may have left in the kernel and on
// disk after every pod it made was removed. Only objects attributable to that cricketd count
// (its temp dir, bridge, pod and container ids, pod addresses): other cricketd instances may run
// on the machine at the same time.

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace cricket::bench {

struct SoakScope {
  std::string dir;     // everything of the run lives below it (root, state, volumes)
  std::string root;    // cricketd --root
  std::string state;   // cricketd --state
  std::string bridge;  // the bridge of its [network] config
  std::set<std::string> pod_ids;
  std::set<std::string> container_ids;
  std::set<std::string> pod_ips;
};

// {"mounts": n, "netns": n, "veths": n, "ip_leases": n, "iptables_rules": n, "cgroups": n,
//  "processes": n, "shim_dirs": n, "snapshot_dirs": n, "total": n, "examples": [...]}: each count
// is of leaked objects (0 expected), `examples` names a few of them.
nlohmann::json CountLeaks(const SoakScope& scope);

}  // namespace cricket::bench
