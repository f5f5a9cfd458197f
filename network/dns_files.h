#pragma once

// The name files of a pod: resolv.conf from the CRI DNSConfig (the node's own file when the
// config is empty, as containerd and CRI-O do), hosts with localhost and the pod's own name,
// and hostname. Written under the sandbox's state dir for its containers to bind-mount.

#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::network {

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
  bool empty() const { return servers.empty() && searches.empty() && options.empty(); }
};

// The resolv.conf for `dns`, or `node_resolv_conf` verbatim when `dns` is empty.
std::string RenderResolvConf(const DnsConfig& dns, const std::string& node_resolv_conf);
// localhost entries, then "<pod_ip>\t<hostname>" when both are known.
std::string RenderHosts(const std::string& pod_ip, const std::string& hostname);

struct PodNameFiles {
  std::string resolv_conf;
  std::string hosts;
  std::string hostname;
};

// Writes resolv.conf, hosts and hostname into `dir` (created 0755), each crash-safely, mode
// 0644. `node_resolv_conf_path` is the node's file (/etc/resolv.conf); a missing one is empty.
Result<PodNameFiles> WritePodNameFiles(const std::string& dir, const std::string& hostname,
                                       const std::string& pod_ip, const DnsConfig& dns,
                                       const std::string& node_resolv_conf_path);

}  // namespace cricket::network
