// CheckpointContainer / CheckpointPod / RestorePod and restore through CreateContainer (root).
// Where CRIU cannot run (this host: Debian's criu 3.17 fails `criu check` on the 6.18 kernel's
// vDSO) every one of them answers FAILED_PRECONDITION and leaves no file; where it runs (the
// hack/vm guest, ctest entry cri_checkpoint_vm) a counter is checkpointed, removed, restored,
// and keeps counting. The counters run in a PID namespace of their own (pid CONTAINER, what
// kubelet sends unless the pod sets shareProcessNamespace): criu dumps only a namespace's init,
// and a container in the pod's or the node's PID namespace is refused up front.

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/integration/cri/checkpoint_support.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket::testing {
namespace {

class PodCheckpointTest : public PodFixture {
 protected:
  grpc::Status Checkpoint(const std::string& id, const std::string& location) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 120s);
    v1::CheckpointContainerRequest req;
    req.set_container_id(id);
    req.set_location(location);
    v1::CheckpointContainerResponse resp;
    return runtime_->CheckpointContainer(&ctx, req, &resp);
  }

  grpc::Status Remove(const std::string& id) {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    return runtime_->RemoveContainer(&ctx, req, &resp);
  }

  // The numbers the counter printed to its log, in order.
  std::vector<long> Counts(const std::string& pod, const std::string& name) {
    return CountsInLog(ReadLog(pod, name));
  }

  // A counter: its count lives only in the shell's memory; it prints it and writes it to the
  // rootfs each step.
  static constexpr const char* kCounter =
      "i=0; while true; do i=$((i+1)); echo count=$i; echo $i > /tmp/count; "
      "busybox sleep 0.3; done";
  // The counter, and a second process that keeps a file open read-write and extends it every
  // 20 ms: criu records such a file's size (not a write-only O_APPEND one's, a log's), and
  // restore refuses a rootfs diff where it differs. So the diff must be taken while the
  // container is still frozen from its dump, not after it resumed.
  static constexpr const char* kCounterAndAppender =
      "(exec 3<>/tmp/appended; while true; do echo x >&3; busybox sleep 0.02; done) & "
      "i=0; while true; do i=$((i+1)); echo count=$i; echo $i > /tmp/count; "
      "busybox sleep 0.3; done";

  std::string location() { return dir_.Join("checkpoint.tar"); }

  // A started counter in a PID namespace of its own (`pid` CONTAINER, as kubelet sends it).
  std::string StartCounter(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                           v1::NamespaceMode pid = v1::CONTAINER,
                           const std::string& name = "counter",
                           const std::string& script = kCounter) {
    std::string ctr;
    grpc::Status created =
        CreateContainer(pod, pod_config, name, script, &ctr, false, [&](v1::ContainerConfig& c) {
          c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(pid);
        });
    EXPECT_TRUE(created.ok()) << created.error_message();
    grpc::Status started = StartContainer(ctr);
    EXPECT_TRUE(started.ok()) << started.error_message();
    return ctr;
  }
};

// Needs no CRIU: the refusal comes before criu is looked at (on the host as in the VM).
TEST_F(PodCheckpointTest, AContainerSharingAPidNamespaceIsFailedPreconditionNamingWhy) {
  auto pod_config = PodConfig("ckpt-sharedpid");
  std::string pod = RunPod(pod_config);
  const std::string in_pod = StartCounter(pod, pod_config, v1::POD, "in-pod");
  const std::string in_node = StartCounter(pod, pod_config, v1::NODE, "in-node");
  ASSERT_FALSE(in_pod.empty());
  ASSERT_FALSE(in_node.empty());

  for (const auto& [ctr, mode] : {std::pair{in_pod, "POD"}, std::pair{in_node, "NODE"}}) {
    grpc::Status status = Checkpoint(ctr, location());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
    EXPECT_NE(status.error_message().find("namespace_options.pid is " + std::string(mode)),
              std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find(ctr), std::string::npos) << status.error_message();
  }
  EXPECT_FALSE(std::filesystem::exists(location()));

  // CheckpointPod refuses the whole pod, naming the container, and writes nothing.
  grpc::ClientContext ctx;
  v1::CheckpointPodRequest req;
  req.set_pod_sandbox_id(pod);
  req.set_output_path(dir_.Join("pod.tar"));
  v1::CheckpointPodResponse resp;
  grpc::Status status = runtime_->CheckpointPod(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("PID namespace"), std::string::npos)
      << status.error_message();
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("pod.tar")));
  EXPECT_EQ(Entries(root() + "/checkpoints"), 0u);
  EXPECT_EQ(Status(in_pod).state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(Status(in_node).state(), v1::CONTAINER_RUNNING);
}

TEST_F(PodCheckpointTest, WithoutAWorkingCriuEveryCallIsFailedPreconditionAndLeavesNoFile) {
  if (CriuWorks()) {
    GTEST_SKIP() << "criu works here; this case is for a node where it does not (the host)";
  }
  auto pod_config = PodConfig("ckpt-nocriu");
  std::string pod = RunPod(pod_config);
  const std::string ctr = StartCounter(pod, pod_config);
  ASSERT_FALSE(ctr.empty());

  grpc::Status status = Checkpoint(ctr, location());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("criu"), std::string::npos) << status.error_message();
  EXPECT_FALSE(std::filesystem::exists(location()));

  grpc::ClientContext pod_ctx;
  v1::CheckpointPodRequest pod_req;
  pod_req.set_pod_sandbox_id(pod);
  pod_req.set_output_path(dir_.Join("pod.tar"));
  v1::CheckpointPodResponse pod_resp;
  status = runtime_->CheckpointPod(&pod_ctx, pod_req, &pod_resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("pod.tar")));

  // A restore from an archive (any file) stops at the same precondition, before any state.
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("fake.tar"), "not a checkpoint", 0600).ok());
  grpc::ClientContext restore_ctx;
  v1::RestorePodRequest restore;
  restore.set_checkpoint_path(dir_.Join("fake.tar"));
  v1::RestorePodResponse restored;
  status = runtime_->RestorePod(&restore_ctx, restore, &restored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  std::string from_archive;
  status = ::cricket::testing::CreateContainer(
      *runtime_, pod, pod_config, MakeShellContainer("again", dir_.Join("fake.tar"), ""),
      &from_archive);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  // Nothing half-made: no work tree of a checkpoint or a restore is left under the root.
  EXPECT_EQ(Entries(root() + "/checkpoints"), 0u);
  // The container was left alone and is still running.
  EXPECT_EQ(Status(ctr).state(), v1::CONTAINER_RUNNING);
}

TEST_F(PodCheckpointTest, BadLocationsAreInvalidArgument) {
  auto pod_config = PodConfig("ckpt-bad");
  std::string pod = RunPod(pod_config);
  const std::string ctr = StartCounter(pod, pod_config);
  ASSERT_FALSE(ctr.empty());
  EXPECT_EQ(Checkpoint(ctr, "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Checkpoint(ctr, "relative.tar").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Checkpoint("no-such-container", location()).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PodCheckpointTest, ARestoredCounterKeepsCountingAndItsFilesSurvive) {
  if (!CriuWorks()) {
    GTEST_SKIP()
        << "criu check fails on this kernel; ctest runs this in the VM (cri_checkpoint_vm)";
  }
  auto pod_config = PodConfig("ckpt");
  std::string pod = RunPod(pod_config);
  const std::string ctr =
      StartCounter(pod, pod_config, v1::CONTAINER, "counter", kCounterAndAppender);
  ASSERT_FALSE(ctr.empty());
  ASSERT_TRUE(WaitFor([&] { return Counts("ckpt", "counter").size() >= 5; }));
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "echo kept > /kept.txt", &out).ok());

  grpc::Status status = Checkpoint(ctr, location());
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(std::filesystem::is_regular_file(location()));
  const long before = Counts("ckpt", "counter").back();  // at or after the dump
  ASSERT_TRUE(Stop(ctr, 0).ok());
  ASSERT_TRUE(Remove(ctr).ok());

  // The archive as the image: CRI-O's restore through CreateContainer.
  v1::ContainerConfig config;
  config.mutable_metadata()->set_name("counter");
  config.mutable_image()->set_image(location());
  config.set_log_path("restored.log");
  // As kubelet sends it again: the pod spec's PID namespace of the container's own.
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::CONTAINER);
  std::string restored;
  status = ::cricket::testing::CreateContainer(*runtime_, pod, pod_config, config, &restored);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(StartContainer(restored).ok());
  EXPECT_EQ(Status(restored).state(), v1::CONTAINER_RUNNING);
  ASSERT_TRUE(WaitFor([&] { return Counts("ckpt", "restored").size() >= 2; }));
  std::vector<long> after = Counts("ckpt", "restored");
  // From where it was (the dump came after the 5th count and no later than `before`), not 1.
  EXPECT_GT(after.front(), 5) << "restarted instead of restored";
  EXPECT_LE(after.front(), before + 1);
  EXPECT_EQ(after[1], after[0] + 1);
  ASSERT_TRUE(Exec(restored, "cat /kept.txt", &out).ok());
  EXPECT_EQ(out.stdout(), "kept\n");
  // The appender came back too, and goes on appending to its restored file.
  ASSERT_TRUE(Exec(restored, "busybox wc -c < /tmp/appended", &out).ok());
  const long appended = std::strtol(out.stdout().c_str(), nullptr, 10);
  ASSERT_TRUE(WaitFor([&] {
    return Exec(restored, "busybox wc -c < /tmp/appended", &out).ok() &&
           std::strtol(out.stdout().c_str(), nullptr, 10) > appended;
  }));
  EXPECT_EQ(Entries(root() + "/checkpoints"), 0u);
}

TEST_F(PodCheckpointTest, APodCheckpointRestoresAsANewPod) {
  if (!CriuWorks()) {
    GTEST_SKIP()
        << "criu check fails on this kernel; ctest runs this in the VM (cri_checkpoint_vm)";
  }
  auto pod_config = PodConfig("ckpt-pod");
  std::string pod = RunPod(pod_config);
  const std::string ctr = StartCounter(pod, pod_config);
  ASSERT_FALSE(ctr.empty());
  ASSERT_TRUE(WaitFor([&] { return Counts("ckpt-pod", "counter").size() >= 5; }));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 120s);
  v1::CheckpointPodRequest req;
  req.set_pod_sandbox_id(pod);
  req.set_output_path(dir_.Join("pod.tar"));
  v1::CheckpointPodResponse resp;
  grpc::Status status = runtime_->CheckpointPod(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(StopAndRemovePod(*runtime_, pod).ok());
  std::filesystem::remove(dir_.Join("logs/ckpt-pod/counter.log"));

  grpc::ClientContext restore_ctx;
  restore_ctx.set_deadline(std::chrono::system_clock::now() + 120s);
  v1::RestorePodRequest restore;
  restore.set_checkpoint_path(dir_.Join("pod.tar"));
  v1::RestorePodResponse restored;
  status = runtime_->RestorePod(&restore_ctx, restore, &restored);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(restored.restored_containers_size(), 1);
  EXPECT_EQ(restored.restored_containers(0).name(), "counter");
  EXPECT_NE(restored.pod_sandbox_id(), pod);
  ASSERT_TRUE(WaitFor([&] { return Counts("ckpt-pod", "counter").size() >= 2; }));
  EXPECT_GT(Counts("ckpt-pod", "counter").front(), 5) << "restarted instead of restored";
}

}  // namespace
}  // namespace cricket::testing
