#pragma once

// The groups of rows CheckNode gathers, one file per concern (node_check*.cc).

#include <string>
#include <vector>

#include "cri/admin/node_check.h"

namespace cricket::cri::admin::internal {

using Rows = std::vector<CheckRow>;

inline void Add(Rows& rows, std::string name, CheckStatus status, std::string detail,
                std::string cost = "") {
  rows.push_back({std::move(name), status, std::move(detail),
                  status == CheckStatus::kOk ? std::string() : std::move(cost)});
}

// The first of `paths` that is executable; empty when none is.
template <typename Paths>
std::string FirstExecutable(NodeCheckEnv& env, const Paths& paths) {
  for (const char* path : paths) {
    if (env.IsExecutable(path)) {
      return path;
    }
  }
  return "";
}

// "6.1.0-18-amd64" -> {6, 1}; {0, 0} when it cannot be read.
std::pair<int, int> KernelVersion(const std::string& release);

// Kernel version, namespaces, overlayfs, openat2, close_range, idmapped mounts, seccomp.
void CheckKernel(NodeCheckEnv& env, Rows& rows);
// AppArmor: on or off, cricket-default loaded or loadable with the configured parser.
void CheckAppArmor(NodeCheckEnv& env, const Config& config, Rows& rows);
// Cgroup mode, each controller, systemd as PID 1 for cgroup_driver = "systemd".
void CheckCgroups(NodeCheckEnv& env, const Config& config, Rows& rows);
// iptables and its backend, bridge/veth/br_netfilter, net.ipv4.ip_forward, CNI plugins.
void CheckNetwork(NodeCheckEnv& env, const Config& config, Rows& rows);
// CRIU and each configured runtime handler binary.
void CheckTools(NodeCheckEnv& env, const Config& config, Rows& rows);

}  // namespace cricket::cri::admin::internal
