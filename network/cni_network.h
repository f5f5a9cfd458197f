#pragma once

// CniNetwork: pod networking delegated to a CNI plugin chain (the first configuration in
// `conf_dir`), executed per the CNI specification: ADD through the chain with prevResult,
// DEL in reverse with the cached result, CHECK where the version allows it;
// runtimeConfig.portMappings for plugins that declare the capability. Results are cached under
// `cache_dir` so teardown works after a restart; host ports are claimed under
// `<cache_dir>/hostports` so a port held by another pod is refused before any plugin runs.
// portmap turns route_localnet on for the pods' bridge and adds no rule against pods reaching
// the node's 127.0.0.1 (containernetworking/plugins#729), so the localnet guard
// (network/localnet_guard.h) for every interface but lo goes in before the first ADD. Cricket
// owns neither that bridge nor its route_localnet, both outlive every pod, so the guard stays
// (like kubelet's KUBE-FIREWALL rule).
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/claims.h"
#include "network/cni_config.h"
#include "network/iptables.h"
#include "network/pod_network.h"

namespace cricket::network {

struct CniOptions {
  std::string conf_dir = "/etc/cni/net.d";
  std::vector<std::string> bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  std::string cache_dir;
  std::chrono::milliseconds plugin_timeout{60000};
};

class CniNetwork final : public PodNetwork {
 public:
  static Result<std::unique_ptr<CniNetwork>> Create(CniOptions options);

  // OK when a configuration loads and every plugin it names is installed.
  Result<void> Ready() override;
  Result<PodNetworkStatus> Setup(const PodNetworkConfig& config) override;
  Result<void> Teardown(const PodNetworkConfig& config) override;
  Result<void> Reconcile(const std::set<std::string>& live_sandbox_ids) override;
  // CNI CHECK of a set-up pod; OK without running anything when the list disables it or its
  // version predates CHECK.
  Result<void> Check(const PodNetworkConfig& config);

 private:
  CniNetwork(CniOptions options, ClaimDir host_ports, std::optional<Iptables> iptables)
      : options_(std::move(options)),
        host_ports_(std::move(host_ports)),
        iptables_(std::move(iptables)) {}
  // The localnet guard for every interface but lo, once per process before the first ADD.
  Result<void> EnsureGuard();
  Result<std::string> FindPlugin(const std::string& type) const;
  // Runs one plugin; the parsed stdout on success.
  Result<nlohmann::json> Invoke(const std::string& command, const CniNetworkList& list,
                                const CniPlugin& plugin, const PodNetworkConfig& config,
                                const nlohmann::json* prev_result);
  // DEL through the chain in reverse, continuing past failures; the first error of the first
  // `added` plugins is returned (the others' ADD failed or never ran: their errors are logged).
  Result<void> DeleteChain(const CniNetworkList& list, const PodNetworkConfig& config,
                           const nlohmann::json* prev_result, size_t added = SIZE_MAX);
  std::string CachePath(const std::string& sandbox_id) const;
  Result<void> ReleaseHostPorts(const std::string& sandbox_id);

  CniOptions options_;
  // Plugins like portmap do not refuse a host port another pod holds; these claims do.
  ClaimDir host_ports_;
  // Absent when the node has no iptables: then no plugin can have set up hostPort NAT (and
  // route_localnet with it) either.
  std::optional<Iptables> iptables_;
  std::mutex mu_;
  bool guarded_ = false;  // Guarded by mu_.
};

// The pod's addresses and gateway from a CNI result (versions 0.3.x, 0.4.0, 1.x).
Result<PodNetworkStatus> ParseCniResult(const nlohmann::json& result);

}  // namespace cricket::network
