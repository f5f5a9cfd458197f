#pragma once

// Cluster: hack/cluster driven from a test (issue #7). Up() starts an etcd, a registry and N
// cricketd "nodes", each in its own network namespace, joined by a bridge in a fabric
// namespace (see hack/cluster for the layout); the destructor runs `hack/cluster down`, which
// removes every namespace, daemon, mount and cgroup the cluster made, also when the test failed.
// A test should still remove its pods through CRI first: `down` only reaps what a crashed
// cricketd could not. Up() first runs `down` on the clusters of test processes that died
// before their teardown (/tmp/crtest-<dead pid>-cluster-*).

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "runtime/v1/api.grpc.pb.h"

namespace cricket::testing {

struct ClusterOptions {
  int nodes = 2;
  int lease_ttl_seconds = 10;
  double snapshot_interval_seconds = 30;
  int etcd_timeout_ms = 3000;
  std::string log_level = "info";
};

struct ClusterNode {
  std::string letter;   // "a": hack/cluster's --node
  std::string name;     // "node-a": its volumes.node_name
  std::string netns;    // its network namespace (ip netns)
  std::string address;  // on the fabric, "10.213.0.11"
  std::string dir;      // root, state, config, logs below
  std::string root;
  std::string socket;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images;
  std::unique_ptr<::cricket::admin::v1::Volumes::Stub> admin;

  // The node's working copy of a portable volume.
  std::string data(const std::string& volume) const { return root + "/volumes/data/" + volume; }
};

class Cluster {
 public:
  // Runs `hack/cluster up` in a fresh /tmp/crtest-<pid>-cluster-XXXXXX and waits until every
  // cricketd answers gRPC. nullptr with `error` set (the script's output) on failure; whatever
  // it made is gone then.
  static std::unique_ptr<Cluster> Up(const ClusterOptions& options, std::string* error);

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  Cluster(Cluster&&) = delete;
  Cluster& operator=(Cluster&&) = delete;
  ~Cluster();

  // `hack/cluster down`; true when everything was removed. The destructor calls it if the
  // test did not.
  bool Down(std::string* error);

  std::vector<ClusterNode>& nodes() { return nodes_; }
  const std::string& etcd() const { return etcd_; }          // "http://10.213.0.1:2379"
  const std::string& registry() const { return registry_; }  // "10.213.0.1:5000"
  const std::string& image() const { return image_; }        // test/busybox in that registry
  const std::string& portable_root() const { return portable_root_; }
  const std::string& dir() const { return dir_; }

  // Connects (true) or partitions (false) the node: its veth in the fabric goes up or down.
  bool SetLink(const ClusterNode& node, bool up, std::string* error);
  // `service` is "etcd" or "registry".
  bool SetService(const std::string& service, bool running, std::string* error);
  // Starts the node's cricketd again (after it died or was killed) and waits until it serves.
  bool StartNode(ClusterNode& node, std::string* error);
  // True when the node's cricketd answers Version.
  static bool Serving(const ClusterNode& node);
  // Every cricketd log of the node, oldest start first.
  static std::string Logs(const ClusterNode& node);

 private:
  Cluster() = default;
  bool Run(const std::vector<std::string>& args, std::string* output, int timeout_s = 120);
  static bool Connect(ClusterNode& node, std::string* error);

  std::string parent_;  // the mkdtemp directory; dir_ is inside it
  std::string dir_;
  bool down_ = true;
  std::string etcd_;
  std::string registry_;
  std::string image_;
  std::string portable_root_;
  std::vector<ClusterNode> nodes_;
};

}  // namespace cricket::testing
