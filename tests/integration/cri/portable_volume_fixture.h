#pragma once

// Two Cricket "nodes" on one machine for the portable volume tests (issue #7): two real
// cricketd, each with its own root, state, socket, bridge and pod subnet, sharing one local
// coordination dir and one dir snapshot store (or an etcd and the registry fixture). Teardown
// removes every pod on both (restarting a daemon the test killed), stops the daemons, destroys
// both bridges and hands ip_forward back as it was.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "common/files.h"
#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "network/bridge_network.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cri_calls.h"
#include "tests/support/cricketd_process.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

struct VolumeNode {
  std::string name;  // "node-a"
  std::string dir;
  std::string bridge;
  std::string subnet;
  int starts = 0;
  std::unique_ptr<CricketdProcess> daemon;
  std::unique_ptr<v1::RuntimeService::Stub> runtime;
  std::unique_ptr<v1::ImageService::Stub> images;
  std::unique_ptr<cricket::admin::v1::Volumes::Stub> admin;

  std::string root() const { return dir + "/root"; }
  std::string state() const { return dir + "/state"; }
  std::string socket() const { return state() + "/cricket.sock"; }
  std::string config() const { return dir + "/config.toml"; }
  std::string data(const std::string& volume) const {
    return root() + "/volumes/data/" + volume;
  }
};

class PortableVolumeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    auto env = RegistryFixtureEnv();
    if (!env.contains("REGISTRY")) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest";
    }
    registry_ = env["REGISTRY"];
    image_ = registry_ + "/test/busybox:latest";
    ip_forward_ = ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("0\n");
    ready_ = true;
    const int tag = ::getpid() % 100000;
    a_ = MakeNode("node-a", "cva" + std::to_string(tag), 231);
    b_ = MakeNode("node-b", "cvb" + std::to_string(tag), 232);
  }

  VolumeNode MakeNode(const std::string& name, const std::string& bridge, int octet) {
    VolumeNode node;
    node.name = name;
    node.dir = dir_.Join(name);
    node.bridge = bridge;
    node.subnet = "10." + std::to_string(octet) + "." + std::to_string(::getpid() % 250) + ".0/24";
    EXPECT_TRUE(MakeDirs(node.dir, 0755).ok());
    return node;
  }

  // The [volumes] section every node gets; tests may override it before Start.
  virtual std::string VolumesSection(const VolumeNode& node) {
    return "[volumes]\nportable_root = \"" + portable_root() + "\"\nnode_name = \"" + node.name +
           "\"\ncoordination_dir = \"" + dir_.Join("coordination") + "\"\nsnapshot_dir = \"" +
           dir_.Join("store") + "\"\nsnapshot_interval_seconds = 0.3\n";
  }

  void WriteNodeConfig(const VolumeNode& node, const std::string& volumes_section) {
    std::string text = volumes_section + "\n[network]\nbackend = \"bridge\"\nbridge = \"" +
                       node.bridge + "\"\nsubnet = \"" + node.subnet + "\"\ncni_conf_dir = \"" +
                       node.dir + "/net.d\"\n";
    ASSERT_TRUE(WriteFileAtomic(node.config(), text, 0644).ok());
  }

  std::unique_ptr<CricketdProcess> Launch(VolumeNode& node) {
    std::vector<std::string> args = {"--root", node.root(), "--state", node.state(), "--config",
                                     node.config()};
    return std::make_unique<CricketdProcess>(
        CRICKETD_PATH, args, node.dir + "/cricketd-" + std::to_string(++node.starts) + ".log");
  }

  void Start(VolumeNode& node, bool pull = true) {
    if (!::testing::Test::HasFatalFailure() && node.starts == 0) {
      WriteNodeConfig(node, VolumesSection(node));
    }
    node.daemon = Launch(node);
    ASSERT_TRUE(node.daemon->WaitReady(node.socket(), 20s)) << node.daemon->Stderr();
    auto channel = UnixChannel(node.socket());
    node.runtime = v1::RuntimeService::NewStub(channel);
    node.images = v1::ImageService::NewStub(channel);
    node.admin = cricket::admin::v1::Volumes::NewStub(channel);
    if (pull) {
      grpc::Status pulled = PullImage(*node.images, image_);
      ASSERT_TRUE(pulled.ok()) << pulled.error_message();
    }
  }

  void TearDown() override {
    if (!ready_) {
      return;
    }
    for (VolumeNode* node : {&a_, &b_}) {
      CleanNode(*node);
    }
    (void)WriteKernelFile("/proc/sys/net/ipv4/ip_forward", ip_forward_);
  }

  void CleanNode(VolumeNode& node) {
    if (node.starts == 0) {
      return;
    }
    if (HasFailure()) {
      for (int i = 1; i <= node.starts; ++i) {
        std::cerr << node.name << " cricketd start " << i << ":\n"
                  << ReadFile(node.dir + "/cricketd-" + std::to_string(i) + ".log").value_or("");
      }
    }
    // WaitReady returns at once for a daemon that is gone; a live one may be slow under load.
    if (!node.daemon || !node.daemon->WaitReady(node.socket(), 60s)) {
      node.daemon = Launch(node);
      EXPECT_TRUE(node.daemon->WaitReady(node.socket(), 20s)) << node.daemon->Stderr();
      node.runtime = v1::RuntimeService::NewStub(UnixChannel(node.socket()));
    }
    RemoveAllPods(node);
    node.daemon.reset();
    network::BridgeOptions bridge;
    bridge.bridge = node.bridge;
    // Create wants the node's subnet for its address range; Destroy finds its rules by bridge name.
    auto subnet = network::Ipv4Cidr::Parse(node.subnet);
    ASSERT_TRUE(subnet.ok()) << subnet.error().ToString();
    bridge.subnet = *subnet;
    bridge.data_dir = node.root() + "/network/" + node.bridge;
    auto net = network::BridgeNetwork::Create(bridge);
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    auto destroyed = (*net)->Destroy();
    EXPECT_TRUE(destroyed.ok()) << destroyed.error().ToString();
  }

  void RemoveAllPods(VolumeNode& node) {
    grpc::Status removed = ::cricket::testing::RemoveAllPods(*node.runtime);
    EXPECT_TRUE(removed.ok()) << node.name << ": " << removed.error_message();
  }

  std::string portable_root() const { return dir_.Join("portable"); }

  v1::PodSandboxConfig PodConfig(const VolumeNode& node, const std::string& name) {
    return MakePodConfig(name, node.dir + "/logs");
  }

  std::string RunPod(VolumeNode& node, const v1::PodSandboxConfig& config) {
    std::string id;
    grpc::Status status = ::cricket::testing::RunPod(*node.runtime, config, &id);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return id;
  }

  grpc::Status RemovePod(VolumeNode& node, const std::string& pod) {
    return StopAndRemovePod(*node.runtime, pod);
  }

  // A container that sleeps, with `host_path` mounted at /data.
  grpc::Status CreateContainer(VolumeNode& node, const std::string& pod,
                               const v1::PodSandboxConfig& pod_config, const std::string& name,
                               const std::string& host_path, std::string* id) {
    return ::cricket::testing::CreateContainer(
        *node.runtime, pod, pod_config,
        MakeShellContainer(name, image_, "exec busybox sleep 1000", host_path), id);
  }

  grpc::Status StartContainer(VolumeNode& node, const std::string& id) {
    return ::cricket::testing::StartContainer(*node.runtime, id);
  }

  // A running container on `node` in a new pod, using portable volume `volume`.
  std::pair<std::string, std::string> PodWithVolume(VolumeNode& node, const std::string& pod_name,
                                                    const std::string& volume) {
    auto config = PodConfig(node, pod_name);
    std::string pod = RunPod(node, config);
    std::string ctr;
    grpc::Status created =
        CreateContainer(node, pod, config, "app", portable_root() + "/" + volume, &ctr);
    EXPECT_TRUE(created.ok()) << created.error_message();
    if (created.ok()) {
      grpc::Status started = StartContainer(node, ctr);
      EXPECT_TRUE(started.ok()) << started.error_message();
    }
    return {pod, ctr};
  }

  // Runs `script` in the container; its stdout (the test fails on a non-zero exit).
  std::string Exec(VolumeNode& node, const std::string& ctr, const std::string& script,
                   int64_t timeout_s = 60) {
    v1::ExecSyncResponse resp;
    grpc::Status status = ExecShell(*node.runtime, ctr, script, timeout_s, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resp.exit_code(), 0) << resp.stderr();
    return resp.stdout();
  }

  static constexpr const char* kChecksums =
      "cd /data && busybox find . -type f | busybox sort | busybox xargs busybox md5sum";

  cricket::admin::v1::ListVolumesResponse ListVolumes(VolumeNode& node) {
    grpc::ClientContext ctx;
    cricket::admin::v1::ListVolumesResponse resp;
    grpc::Status status = node.admin->List(&ctx, {}, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  }

  std::optional<cricket::admin::v1::Volume> FindVolume(VolumeNode& node,
                                                       const std::string& name) {
    grpc::Status status;
    auto row = ::cricket::testing::FindVolume(*node.admin, name, &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return row;
  }

  TempDir dir_{"volnodes"};
  bool ready_ = false;
  std::string registry_;
  std::string image_;
  std::string ip_forward_;
  VolumeNode a_;
  VolumeNode b_;
};

}  // namespace cricket::testing
