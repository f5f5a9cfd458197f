#pragma once

// The contract between the CRI layer and a pod network backend (the built-in bridge, or a CNI
// plugin chain). The backend wires an existing network namespace; NetworkManager owns the
// namespace itself.

#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::network {

enum class Protocol { kTcp, kUdp, kSctp };

std::string_view ProtocolName(Protocol protocol);  // "tcp", "udp", "sctp"

struct PortMapping {
  Protocol protocol = Protocol::kTcp;
  int container_port = 0;
  int host_port = 0;
  std::string host_ip;  // empty: every address of the node
};

struct PodNetworkConfig {
  std::string sandbox_id;
  std::string netns_path;
  // For CNI_ARGS (K8S_POD_NAME, ...); the built-in bridge ignores them.
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::vector<PortMapping> port_mappings;
};

struct PodNetworkStatus {
  std::string interface = "eth0";
  std::vector<std::string> ips;  // the first is the pod's primary IP
  std::string gateway;
};

class PodNetwork {
 public:
  virtual ~PodNetwork() = default;

  // OK when pods can be given a network now; the error says what is missing.
  virtual Result<void> Ready() = 0;
  // Wires the namespace at config.netns_path. On failure nothing the call made is left.
  // kAlreadyExists when a host port is taken by another pod; kResourceExhausted when the
  // address range is full.
  virtual Result<PodNetworkStatus> Setup(const PodNetworkConfig& config) = 0;
  // Undoes Setup. Idempotent: a second call, or a call for a pod never set up, is OK.
  virtual Result<void> Teardown(const PodNetworkConfig& config) = 0;
  // Removes everything the backend holds for pods not in `live_sandbox_ids` (after a crash).
  virtual Result<void> Reconcile(const std::set<std::string>& live_sandbox_ids) = 0;
};

}  // namespace cricket::network
