#pragma once

// ClusterVolumeFixture: portable volume tests (issue #7) on a real cluster from hack/cluster —
// an etcd and a registry in a fabric namespace, two cricketd nodes each in its own network
// namespace, volumes coordinated in etcd and snapshotted to the registry. Every address is
// inside those namespaces. Teardown reconnects partitioned nodes and restarts stopped services,
// removes every pod through CRI (so cricketd's own cleanup runs), then `hack/cluster down`
// removes the rest; the test fails if that leaves anything.

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "tests/support/cluster.h"
#include "tests/support/cri_calls.h"
#include "tests/support/etcd_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {

class ClusterVolumeFixture : public ::testing::Test {
 protected:
  virtual ClusterOptions Options() { return {}; }

  void SetUp() override {
    CR_REQUIRE_ROOT();
    CR_REQUIRE_ETCD();
    std::string error;
    cluster_ = Cluster::Up(Options(), &error);
    ASSERT_NE(cluster_, nullptr) << error;
    for (ClusterNode& node : cluster_->nodes()) {
      grpc::Status pulled = PullImage(*node.images, cluster_->image());
      ASSERT_TRUE(pulled.ok()) << node.name << ": " << pulled.error_message();
    }
  }

  void TearDown() override {
    if (cluster_ == nullptr) {
      return;
    }
    std::string error;
    for (const std::string& service : stopped_services_) {
      EXPECT_TRUE(cluster_->SetService(service, true, &error)) << error;
    }
    for (ClusterNode& node : cluster_->nodes()) {
      if (cut_.contains(node.letter)) {
        Reconnect(node);  // the pods' final snapshots need etcd and the registry
      }
      if (!Cluster::Serving(node)) {
        EXPECT_TRUE(cluster_->StartNode(node, &error)) << error;
      }
      grpc::Status removed = RemoveAllPods(*node.runtime);
      EXPECT_TRUE(removed.ok()) << node.name << ": " << removed.error_message();
    }
    if (HasFailure()) {
      for (const ClusterNode& node : cluster_->nodes()) {
        std::cerr << cluster_->Logs(node);
      }
    }
    EXPECT_TRUE(cluster_->Down(&error)) << error;
    // A clean run removed its pods through CRI: `down` had nothing to reap.
    EXPECT_EQ(error.find("leftover"), std::string::npos) << error;
  }

  ClusterNode& node(size_t i) { return cluster_->nodes().at(i); }

  void Cut(const ClusterNode& n) {
    std::string error;
    cut_.insert(n.letter);
    ASSERT_TRUE(cluster_->SetLink(n, false, &error)) << error;
  }
  // Returns once the node reaches etcd again: its stalled connection needs a TCP retransmit.
  void Reconnect(ClusterNode& n) {
    std::string error;
    ASSERT_TRUE(cluster_->SetLink(n, true, &error)) << error;
    cut_.erase(n.letter);
    grpc::Status listed;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
      FindVolume(*n.admin, "", &listed);  // List reads etcd
      if (listed.ok()) {
        return;
      }
    }
    FAIL() << n.name << " does not reach etcd after reconnecting: " << listed.error_message();
  }
  void SetService(const std::string& service, bool running) {
    std::string error;
    if (running) {
      ASSERT_TRUE(cluster_->SetService(service, true, &error)) << error;
      stopped_services_.erase(service);
    } else {
      stopped_services_.insert(service);
      ASSERT_TRUE(cluster_->SetService(service, false, &error)) << error;
    }
  }

  std::string VolumePath(const std::string& volume) const {
    return cluster_->portable_root() + "/" + volume;
  }

  std::string RunPodOn(ClusterNode& n, const ::runtime::v1::PodSandboxConfig& config) {
    std::string pod;
    grpc::Status status = RunPod(*n.runtime, config, &pod);
    EXPECT_TRUE(status.ok()) << n.name << ": " << status.error_message();
    return pod;
  }

  ::runtime::v1::PodSandboxConfig PodConfig(const ClusterNode& n, const std::string& name) {
    return MakePodConfig(name, n.dir + "/logs");
  }

  // A sleeping container using portable volume `volume` at /data.
  grpc::Status CreateWithVolume(ClusterNode& n, const std::string& pod,
                                const ::runtime::v1::PodSandboxConfig& config,
                                const std::string& volume, std::string* ctr) {
    return CreateContainer(
        *n.runtime, pod, config,
        MakeShellContainer("app", cluster_->image(), "exec busybox sleep 1000", VolumePath(volume)),
        ctr);
  }

  // A running container on `n` in a new pod, using portable volume `volume`.
  std::pair<std::string, std::string> PodWithVolume(ClusterNode& n, const std::string& pod_name,
                                                    const std::string& volume) {
    auto config = PodConfig(n, pod_name);
    std::string pod = RunPodOn(n, config);
    std::string ctr;
    grpc::Status created = CreateWithVolume(n, pod, config, volume, &ctr);
    EXPECT_TRUE(created.ok()) << n.name << ": " << created.error_message();
    if (!created.ok()) {
      return {pod, ""};
    }
    grpc::Status started = StartContainer(*n.runtime, ctr);
    EXPECT_TRUE(started.ok()) << started.error_message();
    return {pod, ctr};
  }

  // Runs `script` in the container; its stdout (the test fails on a non-zero exit).
  std::string Exec(ClusterNode& n, const std::string& ctr, const std::string& script) {
    ::runtime::v1::ExecSyncResponse resp;
    grpc::Status status = ExecShell(*n.runtime, ctr, script, 120, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.exit_code(), 0) << resp.stderr();
    return resp.stdout();
  }

  void RemovePod(ClusterNode& n, const std::string& pod) {
    grpc::Status removed = StopAndRemovePod(*n.runtime, pod);
    EXPECT_TRUE(removed.ok()) << n.name << ": " << removed.error_message();
  }

  std::optional<::cricket::admin::v1::Volume> Volume(ClusterNode& n, const std::string& name) {
    grpc::Status status;
    auto row = FindVolume(*n.admin, name, &status);
    EXPECT_TRUE(status.ok()) << n.name << ": " << status.error_message();
    return row;
  }

  static constexpr const char* kChecksums =
      "cd /data && busybox find . -type f | busybox sort | busybox xargs busybox md5sum";

  std::unique_ptr<Cluster> cluster_;
  std::set<std::string> cut_;               // nodes whose link the test cut
  std::set<std::string> stopped_services_;  // etcd, registry
};

}  // namespace cricket::testing
