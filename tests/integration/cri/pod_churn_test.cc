// 50 pods, each with a running container, created and removed at the same time through one
// cricketd: afterwards nothing of them is left — no record, state dir, mount, cgroup, netns,
// veth, address lease or shim process. Root; images from the registry fixture.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "common/files.h"
#include "network/names.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

constexpr int kPods = 50;

class PodChurnTest : public ::cricket::testing::PodFixture {
 protected:
  // One pod's whole life; the ids it made go to `ids`.
  void PodLife(int n, std::vector<std::string>& ids, std::atomic<int>& failures) {
    v1::PodSandboxConfig pod_config = PodConfig("churn" + std::to_string(n));
    std::string pod = RunPod(pod_config);
    std::string ctr;
    if (pod.empty() ||
        !CreateContainer(pod, pod_config, "c", "exec busybox sleep 600", &ctr).ok() ||
        !StartContainer(ctr).ok()) {
      ++failures;
    }
    ids = {pod, ctr};
    v1::ExecSyncResponse out;
    if (!Exec(ctr, "echo up", &out).ok() || out.stdout() != "up\n") {
      ++failures;
    }
    grpc::ClientContext stop_ctx;
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(pod);
    v1::StopPodSandboxResponse stopped;
    grpc::ClientContext rm_ctx;
    v1::RemovePodSandboxRequest rm;
    rm.set_pod_sandbox_id(pod);
    v1::RemovePodSandboxResponse removed;
    if (!runtime_->StopPodSandbox(&stop_ctx, stop, &stopped).ok() ||
        !runtime_->RemovePodSandbox(&rm_ctx, rm, &removed).ok()) {
      ++failures;
    }
  }

  // Lines of /proc/self/mountinfo that mention `path`.
  static std::vector<std::string> MountsUnder(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
      if (line.find(path) != std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }

  // Pids whose command line names `needle`.
  static std::vector<std::string> ProcessesNaming(const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::string cmdline = ReadFile(entry.path().string() + "/cmdline").value_or("");
      if (cmdline.find(needle) != std::string::npos) {
        out.push_back(name + ": " + cmdline);
      }
    }
    return out;
  }
};

TEST_F(PodChurnTest, FiftyPodsAtOnceLeaveNothingBehind) {
  std::vector<std::vector<std::string>> ids(kPods);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] { PodLife(i, ids[i], failures); });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);

  grpc::ClientContext ctx;
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(&ctx, {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 0);
  grpc::ClientContext list_ctx;
  v1::ListContainersResponse containers;
  ASSERT_TRUE(runtime_->ListContainers(&list_ctx, {}, &containers).ok());
  EXPECT_EQ(containers.containers_size(), 0);

  for (const char* dir : {"netns", "shims", "containers", "runtime", "sandboxes"}) {
    EXPECT_EQ(Entries(state() + "/" + dir), 0u) << dir;
  }
  const std::string bridge = "crd" + std::to_string(::getpid() % 100000);
  // Address leases: one file per address; "lock" and dot files are the allocator's own.
  std::vector<std::string> leases;
  for (const auto& e : std::filesystem::directory_iterator(root() + "/network/" + bridge + "/leases")) {
    std::string name = e.path().filename();
    if (name != "lock" && !name.starts_with(".")) {
      leases.push_back(name);
    }
  }
  EXPECT_EQ(leases, std::vector<std::string>());
  EXPECT_EQ(MountsUnder(dir_.path()), std::vector<std::string>());
  EXPECT_EQ(ProcessesNaming(state() + "/shims"), std::vector<std::string>());
  std::vector<std::string> leaked;
  for (const auto& pod_ids : ids) {
    for (const auto& id : pod_ids) {
      if (id.empty()) {
        continue;
      }
      for (const char* cgroup_root : {"/sys/fs/cgroup/memory/cricket/", "/sys/fs/cgroup/pids/cricket/",
                                      "/sys/fs/cgroup/cpu,cpuacct/cricket/", "/sys/fs/cgroup/cricket/"}) {
        if (std::filesystem::exists(cgroup_root + id)) {
          leaked.push_back(cgroup_root + id);
        }
      }
    }
    if (!pod_ids[0].empty() &&
        std::filesystem::exists("/sys/class/net/" + network::HostVethName(pod_ids[0]))) {
      leaked.push_back("veth of " + pod_ids[0]);
    }
  }
  EXPECT_EQ(leaked, std::vector<std::string>());

  // cricketd owns /cricket, the parent cgroup of these pods: gone with cricketd when unused.
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->WaitExit(10s).has_value());
  for (const char* parent : {"/sys/fs/cgroup/memory/cricket", "/sys/fs/cgroup/pids/cricket",
                             "/sys/fs/cgroup/cricket"}) {
    EXPECT_FALSE(std::filesystem::exists(parent)) << parent;
  }
}

}  // namespace
}  // namespace cricket
