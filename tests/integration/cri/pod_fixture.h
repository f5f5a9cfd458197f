#pragma once

// PodFixture: a real cricketd (root) with the test image pulled from the registry fixture, and
// the CRI calls pod tests make. Teardown removes every pod the test left, restarting cricketd
// on the same root if the test killed it, so no shim, mount or netns outlives a failing test;
// it also destroys the test's bridge and hands ip_forward back as it was.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/files.h"
#include "network/bridge_network.h"
#include "tests/integration/cri/cricketd_fixture.h"
#include "tests/support/cri_calls.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/wait_until.h"

namespace cricket::testing {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

class PodFixture : public CricketdFixture {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    CricketdFixture::SetUp();
    ip_forward_ = ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("0\n");
    auto env = ::cricket::testing::RegistryFixtureEnv();
    if (env.contains("REGISTRY")) {
      image_ = env["REGISTRY"] + "/test/busybox:latest";
    }
    if (image_.empty()) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest";
    }
    Start();
    grpc::ClientContext ctx;
    v1::PullImageRequest pull;
    pull.mutable_image()->set_image(image_);
    v1::PullImageResponse pulled;
    ASSERT_TRUE(ImageStub()->PullImage(&ctx, pull, &pulled).ok());
  }

  void TearDown() override {
    if (daemon_ == nullptr) {
      return;
    }
    if (HasFailure()) {
      for (int i = 1; i <= starts_; ++i) {
        std::cerr << "cricketd start " << i << ":\n"
                  << ReadFile(dir_.Join("cricketd-" + std::to_string(i) + ".log")).value_or("");
      }
    }
    // A test that left cricketd dead still must not leave pods behind: start it again on the
    // same root and state, which know every pod, shim and mount.
    // WaitReady returns at once for a daemon that is gone; a live one may be slow under load.
    if (!daemon_->WaitReady(socket(), 60s)) {
      daemon_ = Launch({}, "cricketd-teardown.log");
      EXPECT_TRUE(daemon_->WaitReady(socket(), 20s)) << daemon_->Stderr();
      runtime_ = RuntimeStub();
    }
    RemovePods();
    daemon_.reset();
    // cricketd keeps its bridge and rules for the next pod; the test's must go with it.
    network::BridgeOptions bridge;
    bridge.bridge = "crd" + std::to_string(::getpid() % 100000);
    bridge.data_dir = root() + "/network/" + bridge.bridge;
    auto net = network::BridgeNetwork::Create(bridge);
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    auto destroyed = (*net)->Destroy();
    EXPECT_TRUE(destroyed.ok()) << destroyed.error().ToString();
    // The bridge turned forwarding on for the node; the test hands the node back as it was.
    (void)WriteKernelFile("/proc/sys/net/ipv4/ip_forward", ip_forward_);
  }

  void RemovePods() {
    // Remove whatever the test left, so no shim, mount or netns outlives it.
    grpc::ClientContext ctx;
    v1::ListPodSandboxResponse pods;
    if (runtime_->ListPodSandbox(&ctx, {}, &pods).ok()) {
      for (const auto& pod : pods.items()) {
        grpc::ClientContext rm_ctx;
        v1::RemovePodSandboxRequest rm;
        rm.set_pod_sandbox_id(pod.id());
        v1::RemovePodSandboxResponse rm_resp;
        EXPECT_TRUE(runtime_->RemovePodSandbox(&rm_ctx, rm, &rm_resp).ok());
      }
    }
  }

  void Start() {
    // Each start logs to a file of its own, so a failure shows every daemon's story.
    const std::string log = "cricketd-" + std::to_string(++starts_) + ".log";
    daemon_ = Launch({}, log);
    ASSERT_TRUE(daemon_->WaitReady(socket(), 20s)) << daemon_->Stderr();
    runtime_ = RuntimeStub();
  }

  v1::PodSandboxConfig PodConfig(const std::string& name) {
    v1::PodSandboxConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_namespace_("default");
    config.mutable_metadata()->set_uid("uid-" + name);
    config.set_hostname(name + "-host");
    config.set_log_directory(dir_.Join("logs/" + name));
    (*config.mutable_labels())["app"] = name;
    return config;
  }

  std::string RunPod(const v1::PodSandboxConfig& config) {
    std::string id;
    grpc::Status status = ::cricket::testing::RunPod(*runtime_, config, &id);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return id;
  }

  grpc::Status CreateContainer(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                               const std::string& name, const std::string& script,
                               std::string* id, bool with_stdin = false,
                               const std::function<void(v1::ContainerConfig&)>& customize = {}) {
    v1::ContainerConfig c = MakeShellContainer(name, image_, script);
    (*c.mutable_labels())["name"] = name;
    c.set_stdin(with_stdin);
    if (customize) {
      customize(c);
    }
    return ::cricket::testing::CreateContainer(*runtime_, pod, pod_config, c, id);
  }

  grpc::Status StartContainer(const std::string& id) {
    return ::cricket::testing::StartContainer(*runtime_, id);
  }

  v1::ContainerStatus Status(const std::string& id) {
    grpc::ClientContext ctx;
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    grpc::Status status = runtime_->ContainerStatus(&ctx, req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.status();
  }

  grpc::Status Exec(const std::string& id, const std::string& script, v1::ExecSyncResponse* out,
                    int64_t timeout_s = 10) {
    return ExecShell(*runtime_, id, script, timeout_s, out);
  }

  grpc::Status Stop(const std::string& id, int64_t timeout_s) {
    grpc::ClientContext ctx;
    v1::StopContainerRequest req;
    req.set_container_id(id);
    req.set_timeout(timeout_s);
    v1::StopContainerResponse resp;
    return runtime_->StopContainer(&ctx, req, &resp);
  }

  // Starts a container of `pod` asking for oom_score_adj `want`; the value its first process
  // got, or nullopt (with the failure recorded) when it did not start or never said.
  std::optional<int> StartedOomScoreAdj(const std::string& pod,
                                        const v1::PodSandboxConfig& pod_config,
                                        const std::string& name, int64_t want) {
    std::string ctr;
    grpc::Status created =
        CreateContainer(pod, pod_config, name,
                        "busybox cat /proc/self/oom_score_adj > /tmp/adj; exec busybox sleep 100",
                        &ctr, false, [&](v1::ContainerConfig& c) {
                          c.mutable_linux()->mutable_resources()->set_oom_score_adj(want);
                        });
    if (!created.ok() || !StartContainer(ctr).ok()) {
      ADD_FAILURE() << name << " did not start: " << created.error_message();
      return std::nullopt;
    }
    v1::ExecSyncResponse out;
    if (!WaitFor([&] {
          return Exec(ctr, "busybox cat /tmp/adj", &out).ok() && !out.stdout().empty();
        })) {
      ADD_FAILURE() << name << " never wrote its oom_score_adj";
      return std::nullopt;
    }
    return std::stoi(out.stdout());
  }

  // The cgroup v2 directory of a container (or pod infra) `id` of a pod without cgroup_parent:
  // cricketd's default parent /cricket under cgroupfs, a scope in cricket.slice under systemd.
  static std::string V2CgroupDir(const std::string& id) {
    return CgroupDriver() == "systemd" ? "/sys/fs/cgroup/cricket.slice/cricket-" + id + ".scope"
                                       : "/sys/fs/cgroup/cricket/" + id;
  }

  std::string ReadLog(const std::string& pod, const std::string& name) {
    return ReadFile(dir_.Join("logs/" + pod + "/" + name + ".log")).value_or("");
  }

  // Polls until `cond` holds; the bound only ends a test that would hang (wait_until.h).
  bool WaitFor(const std::function<bool()>& cond) { return WaitUntil(cond); }

  size_t Entries(const std::string& dir) {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      ++n;
    }
    return n;
  }

  std::string image_;
  std::string ip_forward_;
  int starts_ = 0;
  std::unique_ptr<::cricket::testing::CricketdProcess> daemon_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
};

// The suite of the pod end-to-end tests, spread over several files of one test binary
// (pod_lifecycle_test.cc, pod_streaming_test.cc, pod_users_test.cc, pod_mounts_test.cc).
// GoogleTest wants one fixture class per suite, so it is declared here, once, not per file.
class PodLifecycleTest : public PodFixture {};

}  // namespace cricket::testing
