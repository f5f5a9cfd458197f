// The CRI handlers' decisions through their seams (cri/shim_access.h, network::PodNetworking),
// without root: idempotent stops and removes, NOT_FOUND vs FAILED_PRECONDITION, what a gone
// shim leaves, and what a failed RunPodSandbox or CreateContainer rolls back. The metadata store
// is the real one on a temp dir; shims and the pod network are fakes (fake_shims.h), and so are
// container rootfs snapshots and portable volumes (fake_storage.h).

#include <signal.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "shim/exit_record.h"
#include "tests/mocks/mock_syscalls.h"
#include "tests/unit/cri/service_fixture.h"

namespace cricket::cri {
namespace {

using ::cricket::cri::testing::ExitOf;
using ::cricket::cri::testing::FakeShim;
using ::cricket::cri::testing::FakeShims;
using ::cricket::cri::testing::LiveStatus;
using ::cricket::testing::MockSyscalls;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::cricket::cri::testing::kCgroupV2Mountinfo;

class HandlersTest : public testing::CriServiceFixture {
 protected:
  HandlersTest() : CriServiceFixture("handlers") {}

  CriService& Service() {
    if (!service_) {
      CriDeps deps = BaseDeps();
      deps.sys = sys_;
      deps.shims = &shims_;
      service_ = std::make_unique<CriService>(std::move(deps));
    }
    return *service_;
  }

  std::string RunPod() {
    v1::RunPodSandboxResponse resp;
    auto ran = Service().RunPodSandbox(PodRequest(), resp);
    EXPECT_TRUE(ran.ok()) << ran.error().message();
    return resp.pod_sandbox_id();
  }

  // A container record of `sandbox_id` in `state`, its shim answering like a live one of that
  // state ("created" or "running").
  std::string AddContainer(const std::string& sandbox_id, ContainerState state,
                           const std::string& id = std::string(64, 'c')) {
    ContainerRecord record;
    record.id = id;
    record.sandbox_id = sandbox_id;
    record.name = "app_" + id.substr(0, 8);
    record.state = state;
    v1::ContainerConfig config;
    config.mutable_metadata()->set_name("app");
    config.SerializeToString(&record.config);
    ContainerInfo info;
    info.bundle = config_.state + "/containers/" + id;
    info.shim_dir = ShimDir(id);
    record.runtime = ContainerInfoToJson(info);
    EXPECT_TRUE(store_->PutContainer(record).ok());
    std::filesystem::create_directories(info.shim_dir);
    FakeShim& shim = shims_.At(info.shim_dir);
    shim = FakeShim();
    shim.status = LiveStatus(state == ContainerState::kRunning ? "running" : "created", 7);
    return id;
  }

  ContainerRecord Stored(const std::string& id) { return store_->GetContainer(id).value(); }

  Syscalls* sys_ = nullptr;
  FakeShims shims_;
  std::unique_ptr<CriService> service_;
};

// --- RunPodSandbox ---

TEST_F(HandlersTest, RunPodSandboxLaunchesAndStartsTheInfraShim) {
  const std::string id = RunPod();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(shims_.launched.size(), 1u);
  EXPECT_EQ(shims_.launched[0].id, id);
  EXPECT_EQ(shims_.launched[0].runtime_binary, "");  // the infra always runs in Cricket's runtime
  EXPECT_EQ(shims_.At(shims_.launched[0].state_dir).starts, 1);
  EXPECT_THAT(network_.set_up, ElementsAre(id));
  EXPECT_EQ(store_->GetSandbox(id)->state, SandboxState::kReady);
}

TEST_F(HandlersTest, RunPodSandboxNetworkFailureLeavesNothing) {
  network_.setup = Error(Code::kInternal, "bridge: no addresses left");
  v1::RunPodSandboxResponse resp;
  auto ran = Service().RunPodSandbox(PodRequest(), resp);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().code(), Code::kInternal);
  EXPECT_THAT(*store_->ListSandboxes(), IsEmpty());
  EXPECT_THAT(shims_.launched, IsEmpty());
  EXPECT_TRUE(std::filesystem::is_empty(config_.state + "/sandboxes"));
}

TEST_F(HandlersTest, RunPodSandboxShimLaunchFailureTearsDownNetworkAndRecord) {
  shims_.launch = Error(Code::kInvalidArgument, "process.args: empty");
  v1::RunPodSandboxResponse resp;
  auto ran = Service().RunPodSandbox(PodRequest(), resp);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(*store_->ListSandboxes(), IsEmpty());
  ASSERT_EQ(network_.set_up.size(), 1u);
  EXPECT_THAT(network_.torn_down, ElementsAre(network_.set_up[0]));
  EXPECT_EQ(shims_.At(shims_.launched[0].state_dir).deletes, 1);  // force-deleted, in case
  EXPECT_FALSE(std::filesystem::exists(shims_.launched[0].state_dir));
  EXPECT_TRUE(std::filesystem::is_empty(config_.state + "/sandboxes"));
}

TEST_F(HandlersTest, RunPodSandboxInfraStartFailureRollsBack) {
  // The shim launched, then its start fails: the infra is deleted through it.
  shims_.start_after_launch = Error(Code::kInternal, "start: exec /pause: permission denied");
  v1::RunPodSandboxResponse resp;
  auto ran = Service().RunPodSandbox(PodRequest(), resp);
  ASSERT_FALSE(ran.ok());
  EXPECT_THAT(ran.error().message(), HasSubstr("permission denied"));
  EXPECT_THAT(*store_->ListSandboxes(), IsEmpty());
  EXPECT_EQ(network_.torn_down.size(), 1u);
  EXPECT_EQ(shims_.At(shims_.launched[0].state_dir).deletes, 1);
}

TEST_F(HandlersTest, RunPodSandboxUnknownHandlerMakesNothing) {
  auto req = PodRequest();
  req.set_runtime_handler("kata");
  v1::RunPodSandboxResponse resp;
  auto ran = Service().RunPodSandbox(req, resp);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(ran.error().message(), HasSubstr("runtime_handler \"kata\" is not configured"));
  EXPECT_THAT(*store_->ListSandboxes(), IsEmpty());
  EXPECT_THAT(network_.set_up, IsEmpty());
  EXPECT_THAT(shims_.launched, IsEmpty());
}

// --- StopPodSandbox, RemovePodSandbox, PodSandboxStatus ---

TEST_F(HandlersTest, StopPodSandboxOfUnknownIdIsOk) {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id("feedface");
  v1::StopPodSandboxResponse resp;
  EXPECT_TRUE(Service().StopPodSandbox(req, resp).ok());
}

TEST_F(HandlersTest, StopPodSandboxTwiceIsOk) {
  const std::string id = RunPod();
  const std::string infra_dir = shims_.launched[0].state_dir;
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse resp;
  ASSERT_TRUE(Service().StopPodSandbox(req, resp).ok());
  EXPECT_EQ(store_->GetSandbox(id)->state, SandboxState::kNotReady);
  EXPECT_THAT(shims_.At(infra_dir).kills, ElementsAre(SIGKILL));
  FakeShims::SetGone(shims_.At(infra_dir));  // the infra exited; its shim with it
  ASSERT_TRUE(Service().StopPodSandbox(req, resp).ok());
  EXPECT_EQ(store_->GetSandbox(id)->state, SandboxState::kNotReady);
  EXPECT_THAT(network_.torn_down, ElementsAre(id, id));  // teardown is idempotent
}

TEST_F(HandlersTest, StopPodSandboxStopsItsRunningContainers) {
  const std::string pod = RunPod();
  const std::string ctr = AddContainer(pod, ContainerState::kRunning);
  shims_.At(ShimDir(ctr)).exit_on_kill = ExitOf(137, SIGKILL);
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse resp;
  ASSERT_TRUE(Service().StopPodSandbox(req, resp).ok());
  EXPECT_THAT(shims_.At(ShimDir(ctr)).kills, ElementsAre(SIGKILL));
  EXPECT_EQ(Stored(ctr).state, ContainerState::kExited);
  EXPECT_EQ(Stored(ctr).exit_code, 137);
}

TEST_F(HandlersTest, RemovePodSandboxOfUnknownIdIsOk) {
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id("feedface");
  v1::RemovePodSandboxResponse resp;
  EXPECT_TRUE(Service().RemovePodSandbox(req, resp).ok());
}

TEST_F(HandlersTest, RemovePodSandboxWithItsShimGoneDeletesThroughTheRuntime) {
  // The runtime has never heard of the infra either: unknown to both is OK. The runtime's
  // state is read from files only, so no syscall goes through the seam.
  ::testing::StrictMock<MockSyscalls> sys;
  sys_ = &sys;
  cgroups_ = oci::ParseCgroupMounts(kCgroupV2Mountinfo);
  ASSERT_TRUE(cgroups_.ok());
  const std::string id = RunPod();
  FakeShims::SetGone(shims_.At(shims_.launched[0].state_dir));
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse resp;
  auto removed = Service().RemovePodSandbox(req, resp);
  ASSERT_TRUE(removed.ok()) << removed.error().message();
  EXPECT_EQ(store_->GetSandbox(id).error().code(), Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(config_.state + "/sandboxes/" + id));
}

TEST_F(HandlersTest, RemovePodSandboxWithItsShimGoneAndNoCgroupsFails) {
  const std::string id = RunPod();
  FakeShims::SetGone(shims_.At(shims_.launched[0].state_dir));
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse resp;
  auto removed = Service().RemovePodSandbox(req, resp);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code(), Code::kUnavailable);
  EXPECT_TRUE(store_->GetSandbox(id).ok());  // kept for kubelet's retry
}

TEST_F(HandlersTest, PodSandboxStatusOfUnknownIdIsNotFound) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id("feedface");
  v1::PodSandboxStatusResponse resp;
  auto status = Service().PodSandboxStatus(req, resp);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Code::kNotFound);
}

// --- Container id resolution ---

TEST_F(HandlersTest, ContainerStatusOfUnknownIdIsNotFound) {
  v1::ContainerStatusRequest req;
  req.set_container_id("feedface");
  v1::ContainerStatusResponse resp;
  auto status = Service().ContainerStatus(req, resp);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Code::kNotFound);
}

TEST_F(HandlersTest, AmbiguousContainerPrefixIsInvalidArgument) {
  const std::string pod = RunPod();
  AddContainer(pod, ContainerState::kRunning, "ab" + std::string(62, '1'));
  AddContainer(pod, ContainerState::kRunning, "ab" + std::string(62, '2'));
  v1::ContainerStatusRequest req;
  req.set_container_id("ab");
  v1::ContainerStatusResponse resp;
  auto status = Service().ContainerStatus(req, resp);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(status.error().message(), HasSubstr("ambiguous"));
  req.set_container_id("ab1");  // a unique prefix resolves
  EXPECT_TRUE(Service().ContainerStatus(req, resp).ok());
}

// --- CreateContainer and StartContainer ---

TEST_F(HandlersTest, CreateContainerInUnknownSandboxIsNotFound) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id("feedface");
  req.mutable_config()->mutable_metadata()->set_name("app");
  req.mutable_config()->mutable_image()->set_image("busybox");
  v1::CreateContainerResponse resp;
  auto created = Service().CreateContainer(req, resp);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kNotFound);
  EXPECT_THAT(shims_.launched, IsEmpty());
}

TEST_F(HandlersTest, CreateContainerInStoppedSandboxIsFailedPrecondition) {
  const std::string pod = RunPod();
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse stopped;
  ASSERT_TRUE(Service().StopPodSandbox(stop, stopped).ok());
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod);
  req.mutable_config()->mutable_metadata()->set_name("app");
  req.mutable_config()->mutable_image()->set_image("busybox");
  v1::CreateContainerResponse resp;
  auto created = Service().CreateContainer(req, resp);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(*store_->ListContainers(), IsEmpty());
  EXPECT_EQ(shims_.launched.size(), 1u);  // the infra's only
}

TEST_F(HandlersTest, StartContainerStartsItsShimOnce) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kCreated);
  v1::StartContainerRequest req;
  req.set_container_id(ctr);
  v1::StartContainerResponse resp;
  ASSERT_TRUE(Service().StartContainer(req, resp).ok());
  EXPECT_EQ(shims_.At(ShimDir(ctr)).starts, 1);
  EXPECT_EQ(Stored(ctr).state, ContainerState::kRunning);
  auto again = Service().StartContainer(req, resp);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(shims_.At(ShimDir(ctr)).starts, 1);
}

// --- StopContainer and RemoveContainer ---

TEST_F(HandlersTest, StopContainerOfUnknownIdIsOk) {
  v1::StopContainerRequest req;
  req.set_container_id("feedface");
  v1::StopContainerResponse resp;
  EXPECT_TRUE(Service().StopContainer(req, resp).ok());
}

TEST_F(HandlersTest, StopContainerTwiceIsOk) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  shims_.At(ShimDir(ctr)).exit_on_kill = ExitOf(143, SIGTERM);
  v1::StopContainerRequest req;
  req.set_container_id(ctr);
  req.set_timeout(10);
  v1::StopContainerResponse resp;
  ASSERT_TRUE(Service().StopContainer(req, resp).ok());
  EXPECT_THAT(shims_.At(ShimDir(ctr)).kills, ElementsAre(SIGTERM));  // exited within the grace
  EXPECT_EQ(Stored(ctr).state, ContainerState::kExited);
  EXPECT_EQ(Stored(ctr).exit_code, 143);
  ASSERT_TRUE(Service().StopContainer(req, resp).ok());
  EXPECT_THAT(shims_.At(ShimDir(ctr)).kills, ElementsAre(SIGTERM));  // nothing sent again
}

TEST_F(HandlersTest, StopContainerNeverStartedIsOkAndSendsNothing) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kCreated);
  v1::StopContainerRequest req;
  req.set_container_id(ctr);
  v1::StopContainerResponse resp;
  ASSERT_TRUE(Service().StopContainer(req, resp).ok());
  EXPECT_THAT(shims_.At(ShimDir(ctr)).kills, IsEmpty());
  EXPECT_EQ(Stored(ctr).state, ContainerState::kCreated);
}

TEST_F(HandlersTest, StopContainerThatIgnoresTheGraceIsKilled) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  FakeShim& shim = shims_.At(ShimDir(ctr));
  shim.wait = Error(Code::kDeadlineExceeded, "wait: timed out");  // it ignores SIGTERM
  v1::StopContainerRequest req;
  req.set_container_id(ctr);
  req.set_timeout(1);
  v1::StopContainerResponse resp;
  auto stopped = Service().StopContainer(req, resp);
  ASSERT_FALSE(stopped.ok());  // the wait after SIGKILL timed out too
  EXPECT_EQ(stopped.error().code(), Code::kDeadlineExceeded);
  EXPECT_THAT(shim.kills, ElementsAre(SIGTERM, SIGKILL));
}

TEST_F(HandlersTest, RemoveContainerOfUnknownIdIsOk) {
  v1::RemoveContainerRequest req;
  req.set_container_id("feedface");
  v1::RemoveContainerResponse resp;
  EXPECT_TRUE(Service().RemoveContainer(req, resp).ok());
}

// --- A container that is not running ---

TEST_F(HandlersTest, ExecSyncInCreatedContainerIsFailedPrecondition) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kCreated);
  v1::ExecSyncRequest req;
  req.set_container_id(ctr);
  req.add_cmd("true");
  v1::ExecSyncResponse resp;
  auto ran = Service().ExecSync(req, resp);
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(ran.error().message(), HasSubstr("is not running"));
}

TEST_F(HandlersTest, ExecAndAttachInExitedContainerAreFailedPrecondition) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  shims_.At(ShimDir(ctr)).status->exit = ExitOf(0);
  streaming::StreamSet io;
  auto exec = Service().RunExecSession(ctr, {"sh"}, io);
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.error().code(), Code::kFailedPrecondition);
  auto attach = Service().RunAttachSession(ctr, io);
  ASSERT_FALSE(attach.ok());
  EXPECT_EQ(attach.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Stored(ctr).state, ContainerState::kExited);
  EXPECT_EQ(Stored(ctr).reason, "Completed");
}

TEST_F(HandlersTest, UpdateResourcesOfExitedContainerIsFailedPrecondition) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  shims_.At(ShimDir(ctr)).status->exit = ExitOf(1);
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(ctr);
  v1::UpdateContainerResourcesResponse resp;
  auto updated = Service().UpdateContainerResources(req, resp);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code(), Code::kFailedPrecondition);
}

// --- A shim that is gone ---

TEST_F(HandlersTest, RunningContainerWhoseShimIsGoneBecomesUnknown) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  FakeShims::SetGone(shims_.At(ShimDir(ctr)));
  v1::ContainerStatusRequest req;
  req.set_container_id(ctr);
  v1::ContainerStatusResponse resp;
  ASSERT_TRUE(Service().ContainerStatus(req, resp).ok());
  EXPECT_EQ(resp.status().state(), v1::CONTAINER_UNKNOWN);
  EXPECT_EQ(resp.status().reason(), "Unknown");
  EXPECT_EQ(Stored(ctr).state, ContainerState::kUnknown);
  EXPECT_THAT(Stored(ctr).message, HasSubstr("the container's shim is gone"));
}

TEST_F(HandlersTest, GoneShimsExitRecordIsRead) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  FakeShims::SetGone(shims_.At(ShimDir(ctr)));
  ASSERT_TRUE(shim::WriteExitRecord(ShimDir(ctr), ExitOf(3)).ok());
  v1::ContainerStatusRequest req;
  req.set_container_id(ctr);
  v1::ContainerStatusResponse resp;
  ASSERT_TRUE(Service().ContainerStatus(req, resp).ok());
  EXPECT_EQ(resp.status().state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(resp.status().exit_code(), 3);
  EXPECT_EQ(resp.status().reason(), "Error");
  EXPECT_EQ(Stored(ctr).finished_at_ns, 2000);
}

TEST_F(HandlersTest, CreatedContainerWhoseShimIsGoneStaysCreated) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kCreated);
  FakeShims::SetGone(shims_.At(ShimDir(ctr)));
  v1::ContainerStatusRequest req;
  req.set_container_id(ctr);
  v1::ContainerStatusResponse resp;
  ASSERT_TRUE(Service().ContainerStatus(req, resp).ok());
  EXPECT_EQ(resp.status().state(), v1::CONTAINER_CREATED);
}

// --- CreateContainer: what each failure after the record is reserved rolls back ---

class CreateContainerTest : public HandlersTest {
 protected:
  // A container of the pod, from the image busybox; with `portable`, it mounts the portable
  // volume "data".
  v1::CreateContainerRequest CreateRequest(const std::string& sandbox_id, bool portable = false) {
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(sandbox_id);
    *req.mutable_sandbox_config() = PodRequest().config();
    auto* config = req.mutable_config();
    config->mutable_metadata()->set_name("app");
    config->mutable_image()->set_image("busybox");
    config->add_command("/bin/sh");
    if (portable) {
      auto* mount = config->add_mounts();
      mount->set_host_path(config_.volumes.portable_root + "/data");
      mount->set_container_path("/data");
    }
    return req;
  }

  Result<std::string> Create(const v1::CreateContainerRequest& req) {
    v1::CreateContainerResponse resp;
    CR_RETURN_IF_ERROR(Service().CreateContainer(req, resp));
    return resp.container_id();
  }

  // The id CreateContainer gave the container (the first snapshot prepared or removed).
  std::string CreatedId() const {
    if (!rootfs_.removed.empty()) {
      return rootfs_.removed.front();
    }
    return rootfs_.snapshots.empty() ? "" : *rootfs_.snapshots.begin();
  }

  // Everything a create that failed after the rootfs was mounted and the volume attach began
  // gives back: volumes detached unpublished, rootfs unmounted, snapshot, record, bundle gone.
  void ExpectRolledBackAfterMount(const std::string& ctr) {
    EXPECT_THAT(volumes_.detached, ElementsAre(std::make_pair(ctr, false)));
    EXPECT_THAT(rootfs_.unmounted, ElementsAre(config_.state + "/containers/" + ctr + "/rootfs"));
    EXPECT_THAT(rootfs_.mounted, IsEmpty());
    EXPECT_THAT(rootfs_.snapshots, IsEmpty());
    EXPECT_THAT(Containers(), IsEmpty());
    EXPECT_TRUE(BundlesEmpty());
  }

  std::vector<ContainerRecord> Containers() { return store_->ListContainers().value(); }
  bool BundlesEmpty() {
    const std::string dir = config_.state + "/containers";
    return !std::filesystem::exists(dir) || std::filesystem::is_empty(dir);
  }
};

TEST_F(CreateContainerTest, SuccessLeavesRecordAndMountedSnapshot) {
  const std::string pod = RunPod();
  auto id = Create(CreateRequest(pod, /*portable=*/true));
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(Stored(*id).state, ContainerState::kCreated);
  EXPECT_THAT(rootfs_.snapshots, ElementsAre(*id));
  EXPECT_THAT(rootfs_.mounted, ElementsAre(config_.state + "/containers/" + *id + "/rootfs"));
  EXPECT_THAT(rootfs_.removed, IsEmpty());
  EXPECT_THAT(volumes_.users["data"], ElementsAre(*id));
  EXPECT_THAT(volumes_.detached, IsEmpty());
  EXPECT_TRUE(std::filesystem::exists(config_.state + "/containers/" + *id + "/config.json"));
}

TEST_F(CreateContainerTest, PrepareFailureDropsRecordAndBundle) {
  const std::string pod = RunPod();
  rootfs_.prepare = Error(Code::kNotFound, "chain incomplete");
  auto id = Create(CreateRequest(pod));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kNotFound);
  EXPECT_THAT(Containers(), IsEmpty());
  EXPECT_TRUE(BundlesEmpty());
  EXPECT_THAT(rootfs_.mounted, IsEmpty());
}

TEST_F(CreateContainerTest, MountFailureRemovesSnapshotAndRecord) {
  const std::string pod = RunPod();
  rootfs_.mount = Error(Code::kPermissionDenied, "mount overlay");
  auto id = Create(CreateRequest(pod));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kPermissionDenied);
  EXPECT_THAT(rootfs_.snapshots, IsEmpty());
  EXPECT_EQ(rootfs_.removed.size(), 1u);
  EXPECT_THAT(Containers(), IsEmpty());
  EXPECT_TRUE(BundlesEmpty());
}

TEST_F(CreateContainerTest, VolumeAttachFailureDetachesWithoutPublishAndDropsSnapshot) {
  const std::string pod = RunPod();
  volumes_.attach = Error(Code::kUnavailable, "volume data is owned by node b");
  auto id = Create(CreateRequest(pod, /*portable=*/true));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kUnavailable);
  const std::string ctr = CreatedId();
  ASSERT_FALSE(ctr.empty());
  ExpectRolledBackAfterMount(ctr);
}

TEST_F(CreateContainerTest, ShimLaunchFailureRollsBackEverything) {
  const std::string pod = RunPod();
  shims_.make_state_dir = true;
  shims_.launch = Error(Code::kInternal, "runtime create failed");
  auto id = Create(CreateRequest(pod, /*portable=*/true));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kInternal);
  const std::string ctr = CreatedId();
  ASSERT_FALSE(ctr.empty());
  ASSERT_EQ(shims_.launched.size(), 2u);  // the infra's, then the container's
  EXPECT_FALSE(std::filesystem::exists(shims_.launched[1].state_dir));
  ExpectRolledBackAfterMount(ctr);
}

TEST_F(CreateContainerTest, RemoveContainerUnmountsAndRemovesSnapshotAndRecord) {
  const std::string pod = RunPod();
  auto id = Create(CreateRequest(pod));
  ASSERT_TRUE(id.ok()) << id.error().message();
  v1::RemoveContainerRequest req;
  req.set_container_id(*id);
  v1::RemoveContainerResponse resp;
  ASSERT_TRUE(Service().RemoveContainer(req, resp).ok());
  EXPECT_THAT(rootfs_.unmounted, ElementsAre(config_.state + "/containers/" + *id + "/rootfs"));
  EXPECT_THAT(rootfs_.removed, ElementsAre(*id));
  EXPECT_THAT(rootfs_.snapshots, IsEmpty());
  EXPECT_THAT(volumes_.detached, ElementsAre(std::make_pair(*id, true)));
  EXPECT_THAT(Containers(), IsEmpty());
  EXPECT_TRUE(BundlesEmpty());
}

TEST_F(HandlersTest, StopContainerSnapshotsItsVolumes) {
  const std::string ctr = AddContainer(RunPod(), ContainerState::kRunning);
  shims_.At(ShimDir(ctr)).exit_on_kill = ExitOf(143, SIGTERM);
  v1::StopContainerRequest req;
  req.set_container_id(ctr);
  req.set_timeout(10);
  v1::StopContainerResponse resp;
  ASSERT_TRUE(Service().StopContainer(req, resp).ok());
  EXPECT_THAT(volumes_.snapshotted, ElementsAre(ctr));
}

}  // namespace
}  // namespace cricket::cri
