#pragma once

// NetworkManager: what the CRI layer calls for pod networking. It owns each pod's network
// namespace (pinned at `<netns_dir>/<sandbox id>`) and hands the wiring to the configured
// backend: the built-in bridge, or a CNI plugin chain. Thread-safe.

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "network/network_config.h"
#include "network/pod_cidr.h"
#include "network/pod_network.h"

namespace cricket::network {

struct NetworkManagerOptions {
  NetworkConfig config;
  std::string data_dir;   // persistent: leases, host-port claims, CNI cache (under --root)
  std::string netns_dir;  // namespace pins (under --state)
};

// The calls the CRI handlers make, behind an interface so that their unit tests can fake the
// pod network (NetworkManager is the one implementation).
class PodNetworking {
 public:
  virtual ~PodNetworking() = default;
  // "bridge" or "cni".
  virtual const std::string& backend_name() const = 0;
  virtual std::string NetnsPath(const std::string& sandbox_id) const = 0;
  virtual Result<void> Ready() = 0;
  // Creates the pod's namespace at NetnsPath(config.sandbox_id) and wires it. On failure
  // neither the namespace nor anything the backend made is left.
  virtual Result<PodNetworkStatus> SetupPod(PodNetworkConfig config) = 0;
  // Unwires and removes the namespace. Idempotent.
  virtual Result<void> TeardownPod(PodNetworkConfig config) = 0;
  // kubelet's pod CIDR (UpdateRuntimeConfig): ranges joined with ",". The bridge serves new pods
  // from its IPv4 range unless network.subnet is set; with CNI, network.cni_conf_template is
  // filled with it. Kept across restarts; the same CIDR again is a no-op. kInvalidArgument for
  // a malformed CIDR, an IPv6-only CIDR on the bridge, or one overlapping a route or address of
  // the node (named); kFailedPrecondition for a bad template.
  virtual Result<void> UpdatePodCidr(const std::string& pod_cidr) = 0;
  // The pod CIDR kubelet last sent (normalised), empty before the first.
  virtual std::string pod_cidr() = 0;
};

class NetworkManager final : public PodNetworking {
 public:
  // kInvalidArgument naming the config key (network.subnet, network.backend) for bad settings;
  // other codes when the backend cannot be set up on this node (e.g. no iptables).
  static Result<std::unique_ptr<NetworkManager>> Create(const NetworkManagerOptions& options);

  const std::string& backend_name() const override { return backend_name_; }
  std::string NetnsPath(const std::string& sandbox_id) const override;
  Result<void> Ready() override;
  Result<PodNetworkStatus> SetupPod(PodNetworkConfig config) override;
  Result<void> TeardownPod(PodNetworkConfig config) override;
  // pod_cidr_update.cc
  Result<void> UpdatePodCidr(const std::string& pod_cidr) override;
  std::string pod_cidr() override;
  // Removes namespaces and backend state of pods not in `live` (after a crash or restart).
  Result<void> Reconcile(const std::set<std::string>& live);

 private:
  NetworkManager(std::string backend_name, std::unique_ptr<PodNetwork> backend,
                 const NetworkManagerOptions& options, std::string pod_cidr)
      : backend_name_(std::move(backend_name)),
        backend_(std::move(backend)),
        netns_dir_(options.netns_dir),
        data_dir_(options.data_dir),
        config_(options.config),
        pod_cidr_(std::move(pod_cidr)) {}
  Result<void> ApplyToBridge(const PodCidrs& cidrs);
  Result<void> ApplyToCni(const PodCidrs& cidrs);

  std::string backend_name_;
  std::unique_ptr<PodNetwork> backend_;
  std::string netns_dir_;
  std::string data_dir_;  // the pod CIDR is saved here
  NetworkConfig config_;
  std::mutex cidr_mu_;    // serialises UpdatePodCidr
  std::string pod_cidr_;  // Guarded by cidr_mu_.
};

}  // namespace cricket::network
