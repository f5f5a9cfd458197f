#pragma once

// NetworkManager: what the CRI layer calls for pod networking. It owns each pod's network
// namespace (pinned at `<netns_dir>/<sandbox id>`) and hands the wiring to the configured
// backend: the built-in bridge, or a CNI plugin chain. Thread-safe.

#include <memory>
#include <set>
#include <string>

#include "network/network_config.h"
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
  // Removes namespaces and backend state of pods not in `live` (after a crash or restart).
  Result<void> Reconcile(const std::set<std::string>& live);

 private:
  NetworkManager(std::string backend_name, std::unique_ptr<PodNetwork> backend,
                 std::string netns_dir)
      : backend_name_(std::move(backend_name)),
        backend_(std::move(backend)),
        netns_dir_(std::move(netns_dir)) {}

  std::string backend_name_;
  std::unique_ptr<PodNetwork> backend_;
  std::string netns_dir_;
};

}  // namespace cricket::network
