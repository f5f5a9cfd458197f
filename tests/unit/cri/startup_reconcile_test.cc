// Pod sandboxes cut short by a crash (issue #14), without root: what RunPodSandbox stores before
// its last step must be a pod Status, Stop and Remove handle, and StartupReconcile repairs
// records and removes orphans. The store is the real one on a temp dir; shims and the pod
// network are fakes (fake_shims.h).

#include "cri/startup_reconcile.h"

#include <filesystem>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/mocks/mock_syscalls.h"
#include "tests/unit/cri/service_fixture.h"

namespace cricket::cri {
namespace {

using ::cricket::cri::testing::FakeShims;
using ::cricket::cri::testing::kCgroupV2Mountinfo;
using ::cricket::testing::MockSyscalls;

// FakeShims that keeps the sandbox record as it is stored when the infra shim is launched: what
// a kill -9 of cricketd at that moment leaves in the store.
class RecordAtLaunch final : public ShimAccess {
 public:
  RecordAtLaunch(FakeShims& shims, MetadataStore& store) : shims_(shims), store_(store) {}
  Result<void> Launch(const shim::ShimOptions& options,
                      std::chrono::milliseconds timeout) override {
    if (auto record = store_.GetSandbox(options.id); record.ok()) {
      at_launch = *record;
    }
    return shims_.Launch(options, timeout);
  }
  std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) override {
    return shims_.Connect(shim_dir);
  }
  std::optional<SandboxRecord> at_launch;

 private:
  FakeShims& shims_;
  MetadataStore& store_;
};

class StartupReconcileTest : public testing::CriServiceFixture {
 protected:
  StartupReconcileTest() : CriServiceFixture("reconcile") {}

  void SetUp() override {
    cgroups_ = oci::ParseCgroupMounts(kCgroupV2Mountinfo);
    ASSERT_TRUE(cgroups_.ok());
    capture_ = std::make_unique<RecordAtLaunch>(shims_, *store_);
    CriDeps deps = BaseDeps();
    deps.sys = &sys_;
    deps.shims = capture_.get();
    service_ = std::make_unique<CriService>(std::move(deps));
  }

  std::string RunPod() {
    v1::RunPodSandboxRequest req = PodRequest();
    req.mutable_config()->mutable_linux()->set_cgroup_parent("/kubepods/pod1");
    v1::RunPodSandboxResponse resp;
    auto ran = service_->RunPodSandbox(req, resp);
    EXPECT_TRUE(ran.ok()) << ran.error().message();
    return resp.pod_sandbox_id();
  }

  // The pod answers its status (NotReady), stops and is removed: nothing left of it.
  void ExpectStatusStopRemove(const std::string& id) {
    v1::PodSandboxStatusRequest status_req;
    status_req.set_pod_sandbox_id(id);
    v1::PodSandboxStatusResponse status;
    auto got = service_->PodSandboxStatus(status_req, status);
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(status.status().state(), v1::SANDBOX_NOTREADY);
    v1::ListPodSandboxResponse list;
    ASSERT_TRUE(service_->ListPodSandbox({}, list).ok());
    ASSERT_EQ(list.items_size(), 1);
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse stopped;
    auto stop_result = service_->StopPodSandbox(stop, stopped);
    ASSERT_TRUE(stop_result.ok()) << stop_result.error().message();
    v1::RemovePodSandboxRequest rm;
    rm.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse removed;
    auto rm_result = service_->RemovePodSandbox(rm, removed);
    ASSERT_TRUE(rm_result.ok()) << rm_result.error().message();
    EXPECT_EQ(store_->GetSandbox(id).error().code(), Code::kNotFound);
    EXPECT_FALSE(std::filesystem::exists(config_.state + "/sandboxes/" + id));
  }

  // The runtime's state is read from files only: no syscall goes through the seam.
  ::testing::StrictMock<MockSyscalls> sys_;
  FakeShims shims_;
  std::unique_ptr<RecordAtLaunch> capture_;
  std::unique_ptr<CriService> service_;
};

TEST_F(StartupReconcileTest, RecordStoredBeforeTheLastStepDecodesWithItsPaths) {
  const std::string id = RunPod();
  ASSERT_TRUE(capture_->at_launch.has_value());
  EXPECT_EQ(capture_->at_launch->state, SandboxState::kNotReady);
  auto info = DecodeInfo(*capture_->at_launch);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->state_dir, config_.state + "/sandboxes/" + id);
  EXPECT_EQ(info->infra_shim_dir, config_.state + "/shims/" + id.substr(0, 16));
  EXPECT_EQ(info->cgroup_parent, "/kubepods/pod1");
  EXPECT_EQ(info->netns_path, network_.NetnsPath(id));
}

TEST_F(StartupReconcileTest, PodCutShortAfterItsFirstRecordIsStoppableAndRemovable) {
  // What a kill -9 at the infra launch leaves: the record of that moment, the shim never run.
  const std::string id = RunPod();
  ASSERT_TRUE(capture_->at_launch.has_value());
  ASSERT_TRUE(store_->PutSandbox(*capture_->at_launch).ok());
  FakeShims::SetGone(shims_.At(config_.state + "/shims/" + id.substr(0, 16)));
  StartupReconcile::Run(*service_);
  ExpectStatusStopRemove(id);
}

TEST_F(StartupReconcileTest, RecordWithoutRuntimeStateIsRepairedAtStart) {
  // A record as an older RunPodSandbox stored it first: config only, `runtime` empty.
  const std::string id = RunPod();
  SandboxRecord record = store_->GetSandbox(id).value();
  record.runtime.clear();
  record.state = SandboxState::kNotReady;
  ASSERT_TRUE(store_->PutSandbox(record).ok());
  ASSERT_EQ(DecodeInfo(store_->GetSandbox(id).value()).error().code(), Code::kDataLoss);
  FakeShims::SetGone(shims_.At(config_.state + "/shims/" + id.substr(0, 16)));

  StartupReconcile::Run(*service_);

  auto info = DecodeInfo(store_->GetSandbox(id).value());
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->state_dir, config_.state + "/sandboxes/" + id);
  EXPECT_EQ(info->cgroup_parent, "/kubepods/pod1");
  ExpectStatusStopRemove(id);
}

TEST_F(StartupReconcileTest, HalfMadePodWithARunningInfraIsStopped) {
  const std::string id = RunPod();
  ASSERT_TRUE(capture_->at_launch.has_value());
  ASSERT_TRUE(store_->PutSandbox(*capture_->at_launch).ok());  // NotReady
  shims_.At(config_.state + "/shims/" + id.substr(0, 16)).status =
      testing::LiveStatus("running");  // the infra was started before the crash
  StartupReconcile::Run(*service_);
  EXPECT_EQ(shims_.At(config_.state + "/shims/" + id.substr(0, 16)).kills.size(), 1u);
  EXPECT_EQ(network_.torn_down.size(), 1u);
}

TEST_F(StartupReconcileTest, OrphanedSandboxDirsAreRemoved) {
  const std::string id(64, 'a');
  const std::string state_dir = config_.state + "/sandboxes/" + id;
  const std::string shim_dir = config_.state + "/shims/" + id.substr(0, 16);
  std::filesystem::create_directories(state_dir + "/infra");
  std::filesystem::create_directories(shim_dir);
  shims_.At(shim_dir) = testing::FakeShim();  // a live shim nobody has a record of

  StartupReconcile::Run(*service_);

  EXPECT_EQ(shims_.At(shim_dir).deletes, 1);
  EXPECT_FALSE(std::filesystem::exists(state_dir));
  EXPECT_FALSE(std::filesystem::exists(shim_dir));
}

}  // namespace
}  // namespace cricket::cri
