// What kubelet watches a pod by, end to end through a real cricketd: the container event
// stream, stop with a grace period that runs out, the OOMKilled reason, log reopening after a
// rotation, and pod-level stats. Root; images from the registry fixture.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

class PodEventsTest : public ::cricket::testing::PodFixture {
 protected:
  // Collects GetContainerEvents until the test ends.
  class EventCollector {
   public:
    explicit EventCollector(v1::RuntimeService::Stub& stub) {
      reader_ = stub.GetContainerEvents(&ctx_, v1::GetEventsRequest());
      thread_ = std::thread([this] {
        v1::ContainerEventResponse event;
        while (reader_->Read(&event)) {
          std::lock_guard lock(mu_);
          events_.push_back(event);
        }
      });
    }
    ~EventCollector() {
      ctx_.TryCancel();
      thread_.join();
      (void)reader_->Finish();
    }
    std::vector<v1::ContainerEventResponse> For(const std::string& id) {
      std::lock_guard lock(mu_);
      std::vector<v1::ContainerEventResponse> out;
      for (const auto& e : events_) {
        if (e.container_id() == id) {
          out.push_back(e);
        }
      }
      return out;
    }

   private:
    grpc::ClientContext ctx_;
    std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>> reader_;
    std::mutex mu_;
    std::vector<v1::ContainerEventResponse> events_;  // Guarded by mu_.
    std::thread thread_;
  };

  grpc::Status Remove(const std::string& id) {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    return runtime_->RemoveContainer(&ctx, req, &resp);
  }
};

TEST_F(PodEventsTest, EventsArriveInOrderWithThePodsStatus) {
  EventCollector events(*runtime_);
  v1::PodSandboxConfig pod_config = PodConfig("events");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  // Ends on its own: STOPPED comes from the exit watcher, not from a StopContainer call.
  ASSERT_TRUE(CreateContainer(pod, pod_config, "short", "busybox sleep 0.3; exit 0", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  ASSERT_TRUE(WaitFor([&] { return events.For(ctr).size() >= 3; }));
  ASSERT_TRUE(Remove(ctr).ok());
  ASSERT_TRUE(WaitFor([&] { return events.For(ctr).size() >= 4; }));

  auto got = events.For(ctr);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].container_event_type(), v1::CONTAINER_CREATED_EVENT);
  EXPECT_EQ(got[1].container_event_type(), v1::CONTAINER_STARTED_EVENT);
  EXPECT_EQ(got[2].container_event_type(), v1::CONTAINER_STOPPED_EVENT);
  EXPECT_EQ(got[3].container_event_type(), v1::CONTAINER_DELETED_EVENT);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_GE(got[i].created_at(), got[i - 1].created_at());
  }
  EXPECT_EQ(got[2].pod_sandbox_status().id(), pod);
  EXPECT_EQ(got[2].pod_sandbox_status().state(), v1::SANDBOX_READY);
  ASSERT_EQ(got[2].containers_statuses_size(), 1);
  EXPECT_EQ(got[2].containers_statuses(0).id(), ctr);
  EXPECT_EQ(got[2].containers_statuses(0).state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(got[2].containers_statuses(0).reason(), "Completed");
  EXPECT_EQ(got[3].containers_statuses_size(), 0);  // the deleted one is gone from its pod
}

TEST_F(PodEventsTest, StopKillsWhenTheGracePeriodRunsOut) {
  v1::PodSandboxConfig pod_config = PodConfig("stubborn");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  // Ignores the image's stop signal (SIGQUIT) and SIGTERM.
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c",
                              "trap '' QUIT TERM; while true; do busybox sleep 1 & wait $!; done",
                              &ctr)
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  std::this_thread::sleep_for(200ms);  // let the shell install its traps
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(Stop(ctr, 2).ok());
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 25s);  // 2 s grace, then SIGKILL (a failed kill waits 30 s for the exit)
  v1::ContainerStatus status = Status(ctr);
  EXPECT_EQ(status.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 128 + SIGKILL);
}

TEST_F(PodEventsTest, OomKilledIsTheReasonWhenTheMemoryLimitKills) {
  v1::PodSandboxConfig pod_config = PodConfig("hungry");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c",
                              // dd fills a 256 MiB buffer: far over the limit.
                              "busybox dd if=/dev/zero of=/dev/null bs=256M count=1", &ctr, false,
                              [](v1::ContainerConfig& c) {
                                auto& r = *c.mutable_linux()->mutable_resources();
                                r.set_memory_limit_in_bytes(32 << 20);
                                r.set_memory_swap_limit_in_bytes(32 << 20);
                              })
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  ASSERT_TRUE(WaitFor([&] { return Status(ctr).state() == v1::CONTAINER_EXITED; }));
  v1::ContainerStatus status = Status(ctr);
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_EQ(status.exit_code(), 128 + SIGKILL);
}

TEST_F(PodEventsTest, ReopenContainerLogAfterRotation) {
  v1::PodSandboxConfig pod_config = PodConfig("rotate");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c",
                              "i=0; while true; do echo line$i; i=$((i+1)); busybox sleep 0.05; "
                              "done",
                              &ctr)
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  const std::string log = dir_.Join("logs/rotate/c.log");
  ASSERT_TRUE(WaitFor([&] { return ReadLog("rotate", "c").find("line1\n") != std::string::npos; }));
  // What kubelet's log rotation does: rename, then ask the runtime to reopen.
  std::filesystem::rename(log, log + ".1");
  grpc::ClientContext ctx;
  v1::ReopenContainerLogRequest req;
  req.set_container_id(ctr);
  v1::ReopenContainerLogResponse resp;
  ASSERT_TRUE(runtime_->ReopenContainerLog(&ctx, req, &resp).ok());
  ASSERT_TRUE(WaitFor([&] { return ReadLog("rotate", "c").find(" stdout F line") != std::string::npos; }))
      << "no new lines in the reopened log";
  // Nothing written twice: the rotated file ends where the new one begins.
  std::string old_log = ReadFile(log + ".1").value_or("");
  std::string new_log = ReadLog("rotate", "c");
  std::string first_new = new_log.substr(new_log.find(" F line") + 3);
  first_new = first_new.substr(0, first_new.find('\n') + 1);
  EXPECT_EQ(old_log.find(" F " + first_new), std::string::npos) << first_new;
}

TEST_F(PodEventsTest, PodSandboxStatsCoverTheWholePodAndItsNetwork) {
  v1::PodSandboxConfig pod_config = PodConfig("busy");
  std::string pod = RunPod(pod_config);
  RunPod(PodConfig("idle"));
  std::string ctr;
  // The CPU is spent by a finished exec, not by a spinning process: the pod's usage is read
  // before its container's, so a container still burning CPU could show more than its pod.
  ASSERT_TRUE(CreateContainer(pod, pod_config, "spin", "sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stdout() << out.stderr();
  // Traffic on eth0: a ping to the bridge's address.
  ASSERT_TRUE(Exec(ctr, "busybox ping -c 1 -W 2 10.88.0.1", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stdout() << out.stderr();

  grpc::ClientContext ctx;
  v1::PodSandboxStatsRequest req;
  req.set_pod_sandbox_id(pod);
  v1::PodSandboxStatsResponse resp;
  grpc::Status status = runtime_->PodSandboxStats(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::PodSandboxStats& stats = resp.stats();
  EXPECT_EQ(stats.attributes().id(), pod);
  EXPECT_EQ(stats.attributes().metadata().name(), "busy");
  EXPECT_GT(stats.linux().cpu().usage_core_nano_seconds().value(), 10'000'000u);
  EXPECT_GT(stats.linux().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(stats.linux().process().process_count().value(), 2u);  // infra and the shell
  EXPECT_EQ(stats.linux().network().default_interface().name(), "eth0");
  EXPECT_GT(stats.linux().network().default_interface().tx_bytes().value(), 0u);
  EXPECT_GT(stats.linux().network().default_interface().rx_bytes().value(), 0u);
  ASSERT_EQ(stats.linux().containers_size(), 1);
  EXPECT_EQ(stats.linux().containers(0).attributes().id(), ctr);
  // The pod's CPU includes its container's.
  EXPECT_GE(stats.linux().cpu().usage_core_nano_seconds().value(),
            stats.linux().containers(0).cpu().usage_core_nano_seconds().value());

  grpc::ClientContext list_ctx;
  v1::ListPodSandboxStatsRequest list;
  (*list.mutable_filter()->mutable_label_selector())["app"] = "busy";
  v1::ListPodSandboxStatsResponse listed;
  ASSERT_TRUE(runtime_->ListPodSandboxStats(&list_ctx, list, &listed).ok());
  ASSERT_EQ(listed.stats_size(), 1);
  EXPECT_EQ(listed.stats(0).attributes().id(), pod);
  grpc::ClientContext all_ctx;
  v1::ListPodSandboxStatsResponse all;
  ASSERT_TRUE(runtime_->ListPodSandboxStats(&all_ctx, {}, &all).ok());
  EXPECT_EQ(all.stats_size(), 2);
}

}  // namespace
}  // namespace cricket
