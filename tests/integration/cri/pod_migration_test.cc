// A running container moves to another node (issue #16, "the edge case"): two cricketd nodes
// (portable_volume_fixture.h: own roots, sockets, bridges; one coordination dir and snapshot
// store), a counter whose count lives only in its shell's memory and whose volume is portable.
// CheckpointPod with cricket.io/migrate on A stops it with the dump and releases the volume
// after its final snapshot; RestorePod on B attaches the volume (restored to that snapshot)
// before criu resumes the process. Needs a working CRIU: ctest runs it in the VM
// (cri_migration_vm); on the host (criu check fails on its kernel) it skips.

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/checkpoint_support.h"
#include "tests/integration/cri/portable_volume_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

// Counts in memory only; each step prints it and writes it to the volume.
constexpr const char* kCounter =
    "i=0; while true; do i=$((i+1)); echo count=$i; echo $i > /data/count; "
    "busybox sleep 0.3; done";

class PodMigrationTest : public ::cricket::testing::PortableVolumeFixture {
 protected:
  // The numbers the counter (of pod "mover") printed to its log on `node`, in order.
  std::vector<long> Counts(const ::cricket::testing::VolumeNode& node) {
    return ::cricket::testing::CountsInLog(
        ReadFile(node.dir + "/logs/mover/counter.log").value_or(""));
  }

  bool WaitForCounts(const ::cricket::testing::VolumeNode& node, size_t n) {
    for (int i = 0; i < 600; ++i) {
      if (Counts(node).size() >= n) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
};

TEST_F(PodMigrationTest, ARunningCounterMovesToAnotherNodeWithItsVolume) {
  if (!::cricket::testing::CriuWorks()) {
    GTEST_SKIP() << "criu check fails on this kernel; ctest runs this in the VM "
                    "(cri_migration_vm)";
  }
  Start(a_);
  Start(b_);
  auto pod_config = PodConfig(a_, "mover");
  const std::string pod = RunPod(a_, pod_config);
  v1::ContainerConfig counter = ::cricket::testing::MakeShellContainer("counter", image_, kCounter,
                                                                       portable_root() + "/state");
  counter.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::CONTAINER);
  std::string ctr;
  grpc::Status status =
      ::cricket::testing::CreateContainer(*a_.runtime, pod, pod_config, counter, &ctr);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(StartContainer(a_, ctr).ok());
  Exec(a_, ctr, "busybox dd if=/dev/urandom of=/data/blob bs=64k count=16 2>/dev/null");
  const std::string sum = Exec(a_, ctr, "busybox md5sum /data/blob");
  ASSERT_TRUE(WaitForCounts(a_, 5));

  const std::string archive = dir_.Join("mover.tar");
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 180s);
    v1::CheckpointPodRequest req;
    req.set_pod_sandbox_id(pod);
    req.set_output_path(archive);
    (*req.mutable_options())["cricket.io/migrate"] = "true";
    v1::CheckpointPodResponse resp;
    status = a_.runtime->CheckpointPod(&ctx, req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // On A: the counter stopped with the dump, the volume published and released.
  const long last_on_a = Counts(a_).back();
  {
    grpc::ClientContext ctx;
    v1::ContainerStatusRequest req;
    req.set_container_id(ctr);
    v1::ContainerStatusResponse resp;
    ASSERT_TRUE(a_.runtime->ContainerStatus(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status().state(), v1::CONTAINER_EXITED);
  }
  auto row = FindVolume(a_, "state");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->owner(), "") << "the volume is still held by " << row->owner();
  EXPECT_FALSE(row->head().empty());
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Counts(a_).back(), last_on_a) << "the counter went on counting on A";

  // On B, from the archive alone (B's own pod config: its log directory).
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 180s);
  v1::RestorePodRequest restore;
  restore.set_checkpoint_path(archive);
  *restore.mutable_config() = PodConfig(b_, "mover");
  v1::RestorePodResponse restored;
  status = b_.runtime->RestorePod(&ctx, restore, &restored);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(restored.restored_containers_size(), 1);
  const std::string ctr_b = restored.restored_containers(0).container_id();
  ASSERT_TRUE(WaitForCounts(b_, 3));
  const std::vector<long> on_b = Counts(b_);
  // From where it was on A: the next number, neither a restart (1) nor a gap.
  EXPECT_EQ(on_b.front(), last_on_a + 1);
  EXPECT_EQ(on_b[1], on_b[0] + 1);
  // The volume came along: the blob intact, the count file written on A and now on B.
  EXPECT_EQ(Exec(b_, ctr_b, "busybox md5sum /data/blob"), sum);
  EXPECT_GE(std::atol(Exec(b_, ctr_b, "cat /data/count").c_str()), on_b.front());
  row = FindVolume(b_, "state");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->owner(), "node-b");
  EXPECT_TRUE(row->attached_here());
}

// The option is checked before anything is dumped (host or VM).
TEST_F(PodMigrationTest, ABadMigrateOptionIsInvalidArgument) {
  Start(a_, /*pull=*/false);
  auto pod_config = PodConfig(a_, "badopt");
  const std::string pod = RunPod(a_, pod_config);
  grpc::ClientContext ctx;
  v1::CheckpointPodRequest req;
  req.set_pod_sandbox_id(pod);
  req.set_output_path(dir_.Join("badopt.tar"));
  (*req.mutable_options())["cricket.io/migrate"] = "yes";
  v1::CheckpointPodResponse resp;
  grpc::Status status = a_.runtime->CheckpointPod(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("cricket.io/migrate"), std::string::npos)
      << status.error_message();
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("badopt.tar")));
}

}  // namespace
}  // namespace cricket
