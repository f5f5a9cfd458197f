// Containers after a crash, without root (issue #14): each CreateContainer, StartContainer and
// RemoveContainer fail point with `error` leaves nothing behind (or a remove to repeat), and
// start-up reconcile (cri/container_reconcile.h) finishes or removes what a kill left. The
// metadata store is real (a temp dir); shims, snapshots and volumes are the fakes of
// fake_shims.h and fake_storage.h. The same points with `kill`, against a real cricketd, are
// tests/integration/cri/crash_matrix_containers_test.cc.

#include "cri/container_reconcile.h"

#include <signal.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/failpoint.h"
#include "shim/exit_record.h"
#include "tests/unit/cri/service_fixture.h"

namespace cricket::cri {
namespace {

using ::cricket::cri::testing::ExitOf;
using ::cricket::cri::testing::FakeShim;
using ::cricket::cri::testing::FakeShims;
using ::cricket::cri::testing::LiveStatus;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class ContainerCrashTest : public testing::CriServiceFixture {
 protected:
  ContainerCrashTest() : CriServiceFixture("ctrcrash") {}

  void SetUp() override {
    shims_.make_state_dir = true;
    // Detected, with no syscalls to reach a runtime: a delete whose shim is gone finds nothing.
    cgroups_ = oci::CgroupInfo{};
    CriDeps deps = BaseDeps();
    deps.shims = &shims_;
    service_ = std::make_unique<CriService>(std::move(deps));
    v1::RunPodSandboxRequest pod = PodRequest();
    v1::RunPodSandboxResponse ran;
    ASSERT_TRUE(service_->RunPodSandbox(pod, ran).ok());
    pod_ = ran.pod_sandbox_id();
    pod_config_ = pod.config();
  }
  void TearDown() override { ASSERT_TRUE(ConfigureFailPoints("").ok()); }

  Result<std::string> Create(bool portable = false) {
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod_);
    *req.mutable_sandbox_config() = pod_config_;
    auto* config = req.mutable_config();
    config->mutable_metadata()->set_name("app");
    config->mutable_image()->set_image("busybox");
    config->add_command("/bin/sh");
    if (portable) {
      auto* mount = config->add_mounts();
      mount->set_host_path(config_.volumes.portable_root + "/data");
      mount->set_container_path("/data");
    }
    v1::CreateContainerResponse resp;
    CR_RETURN_IF_ERROR(service_->CreateContainer(req, resp));
    return resp.container_id();
  }
  Result<void> Start(const std::string& id) {
    v1::StartContainerRequest req;
    req.set_container_id(id);
    v1::StartContainerResponse resp;
    return service_->StartContainer(req, resp);
  }
  Result<void> Remove(const std::string& id) {
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    return service_->RemoveContainer(req, resp);
  }
  std::vector<std::string> Reconcile() {
    ContainerReconcileDeps deps{&config_, store_.get(), &shims_, &rootfs_};
    auto repairs = ReconcileContainers(*service_, deps);
    EXPECT_TRUE(repairs.ok()) << repairs.error().ToString();
    return repairs.ok() ? *repairs : std::vector<std::string>{};
  }

  // A record as a CreateContainer killed before its shim left it: reserved, its bundle made,
  // no shim.
  std::string HalfMade(const std::string& pod, const std::string& id) {
    ContainerRecord record;
    record.id = id;
    record.sandbox_id = pod;
    record.name = "app_" + id.substr(0, 8);
    record.state = ContainerState::kCreated;
    ContainerInfo info;
    info.bundle = Bundle(id);
    info.shim_dir = ShimDir(id);
    record.runtime = ContainerInfoToJson(info);
    EXPECT_TRUE(store_->PutContainer(record).ok());
    std::filesystem::create_directories(info.bundle + "/rootfs");
    return id;
  }

  std::vector<ContainerRecord> Containers() { return store_->ListContainers().value(); }
  std::string Bundle(const std::string& id) const { return config_.state + "/containers/" + id; }
  size_t Entries(const std::string& dir) {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      ++n;
    }
    return n;
  }
  // Nothing of any container is left: records, bundles, snapshots, mounts, shim dirs but the
  // infra's.
  void ExpectNoContainerLeft() {
    EXPECT_THAT(Containers(), IsEmpty());
    EXPECT_EQ(Entries(config_.state + "/containers"), 0u);
    EXPECT_THAT(rootfs_.snapshots, IsEmpty());
    EXPECT_THAT(rootfs_.mounted, IsEmpty());
    EXPECT_EQ(Entries(config_.state + "/shims"), 1u);  // the infra's
  }

  FakeShims shims_;
  std::unique_ptr<CriService> service_;
  std::string pod_;
  v1::PodSandboxConfig pod_config_;
};

// --- `error` at each step: the RPC fails and leaves nothing ---

class CreateFailPointTest : public ContainerCrashTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(CreateFailPointTest, ErrorLeavesNothing) {
  ASSERT_TRUE(ConfigureFailPoints(std::string(GetParam()) + "=error").ok());
  auto id = Create(/*portable=*/true);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kInternal);
  EXPECT_THAT(id.error().message(), HasSubstr(GetParam()));
  ExpectNoContainerLeft();
  // Every volume lease taken was given back, unpublished.
  for (const auto& [ctr, publish] : volumes_.detached) {
    EXPECT_FALSE(publish) << ctr;
  }
  // A shim that held the container deleted it.
  ASSERT_TRUE(ConfigureFailPoints("").ok());
  if (shims_.launched.size() == 2) {
    EXPECT_EQ(shims_.At(shims_.launched[1].state_dir).deletes, 1) << GetParam();
  }
  // Nothing is left for reconcile either.
  EXPECT_THAT(Reconcile(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, CreateFailPointTest,
    ::testing::Values("container_create.after_record", "container_create.after_snapshot",
                      "container_create.after_mount", "container_create.after_volumes",
                      "container_create.after_spec", "container_create.after_shim",
                      "container_create.before_final_record"));

TEST_F(ContainerCrashTest, ShimLaunchFailureDeletesWhatTheShimLeft) {
  shims_.launch = Error(Code::kInternal, "cricket-shim died before it was ready");
  ASSERT_FALSE(Create().ok());
  // Its shim is gone: the delete went to it (and on, in cricketd, to the runtime).
  EXPECT_EQ(shims_.At(shims_.launched[1].state_dir).deletes, 1);
  ExpectNoContainerLeft();
}

TEST_F(ContainerCrashTest, StartErrorAfterTheShimStartedKillsTheContainer) {
  auto id = Create();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  FakeShim& shim = shims_.At(ShimDir(*id));
  shim.exit_on_kill = ExitOf(137, SIGKILL);
  ASSERT_TRUE(ConfigureFailPoints("container_start.after_shim_start=error").ok());
  auto started = Start(*id);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code(), Code::kInternal);
  EXPECT_EQ(shim.starts, 1);
  EXPECT_THAT(shim.kills, ElementsAre(SIGKILL));
  // Not shown as created while it ran: it ended.
  EXPECT_EQ(store_->GetContainer(*id)->state, ContainerState::kExited);
  ASSERT_TRUE(ConfigureFailPoints("").ok());
  EXPECT_TRUE(Remove(*id).ok());
  ExpectNoContainerLeft();
}

class RemoveFailPointTest : public ContainerCrashTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(RemoveFailPointTest, ErrorLeavesARemoveToRepeat) {
  auto id = Create(/*portable=*/true);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_TRUE(ConfigureFailPoints(std::string(GetParam()) + "=error").ok());
  auto removed = Remove(*id);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code(), Code::kInternal);
  EXPECT_THAT(Containers(), SizeIs(1));  // still there, to remove again
  ASSERT_TRUE(ConfigureFailPoints("").ok());
  ASSERT_TRUE(Remove(*id).ok());
  ExpectNoContainerLeft();
}

INSTANTIATE_TEST_SUITE_P(EveryStep, RemoveFailPointTest,
                         ::testing::Values("container_remove.after_stop",
                                           "container_remove.after_detach",
                                           "container_remove.after_delete",
                                           "container_remove.after_unmount",
                                           "container_remove.before_record"));

// --- start-up reconcile ---

TEST_F(ContainerCrashTest, ReconcileRemovesAHalfMadeContainer) {
  const std::string id = HalfMade(pod_, std::string(64, 'a'));
  ASSERT_TRUE(rootfs_.Prepare(id, "chain").ok());
  ASSERT_TRUE(rootfs_.Mount(id, Bundle(id) + "/rootfs", std::nullopt).ok());
  auto repairs = Reconcile();
  EXPECT_THAT(repairs, ElementsAre(id + ": removed: half-made, no shim holds it"));
  ExpectNoContainerLeft();
  EXPECT_THAT(rootfs_.removed, ElementsAre(id));
  EXPECT_THAT(Reconcile(), IsEmpty());  // repaired once
}

TEST_F(ContainerCrashTest, ReconcileKeepsACreatedContainerItsShimHolds) {
  auto id = Create();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_THAT(Reconcile(), IsEmpty());
  EXPECT_EQ(store_->GetContainer(*id)->state, ContainerState::kCreated);
}

TEST_F(ContainerCrashTest, ReconcileRecordsAStartItsShimMade) {
  auto id = Create();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  shims_.At(ShimDir(*id)).status = LiveStatus("running");
  shims_.At(ShimDir(*id)).status->started_at_ns = 1234;
  EXPECT_THAT(Reconcile(), ElementsAre(HasSubstr("recorded as running")));
  EXPECT_EQ(store_->GetContainer(*id)->state, ContainerState::kRunning);
  EXPECT_EQ(store_->GetContainer(*id)->started_at_ns, 1234);
}

TEST_F(ContainerCrashTest, ReconcileRecordsTheExitAGoneShimLeft) {
  auto id = Create();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_TRUE(Start(*id).ok());
  FakeShims::SetGone(shims_.At(ShimDir(*id)));
  ASSERT_TRUE(shim::WriteExitRecord(ShimDir(*id), ExitOf(3)).ok());
  EXPECT_THAT(Reconcile(), ElementsAre(HasSubstr("recorded its exit (code 3)")));
  EXPECT_EQ(store_->GetContainer(*id)->state, ContainerState::kExited);
  EXPECT_EQ(store_->GetContainer(*id)->exit_code, 3);
}

TEST_F(ContainerCrashTest, ReconcileFinishesARemoveCutShort) {
  auto id = Create();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ContainerRecord record = store_->GetContainer(*id).value();
  record.state = ContainerState::kExited;
  ASSERT_TRUE(store_->PutContainer(record).ok());
  std::filesystem::remove_all(Bundle(*id));
  EXPECT_THAT(Reconcile(), ElementsAre(HasSubstr("a remove was cut short")));
  ExpectNoContainerLeft();
}

TEST_F(ContainerCrashTest, ReconcileStopsOrphanShimsAndRemovesOrphanBundles) {
  // No record names them (a record lost with a moved-aside metadata.db, say).
  const std::string orphan = std::string(64, 'd');
  std::filesystem::create_directories(ShimDir(orphan));
  FakeShim& shim = shims_.At(ShimDir(orphan));
  shim = FakeShim();
  std::filesystem::create_directories(Bundle(orphan) + "/rootfs");
  ASSERT_TRUE(rootfs_.Prepare(orphan, "chain").ok());
  ASSERT_TRUE(rootfs_.Mount(orphan, Bundle(orphan) + "/rootfs", std::nullopt).ok());
  auto repairs = Reconcile();
  EXPECT_THAT(repairs, Contains(HasSubstr("removed the orphan shim dir " + ShimDir(orphan))));
  EXPECT_THAT(repairs, Contains(orphan + ": removed the orphan bundle and its snapshot"));
  EXPECT_THAT(shim.kills, ElementsAre(SIGKILL));
  EXPECT_EQ(shim.deletes, 1);
  ExpectNoContainerLeft();  // the infra's shim dir, named by the sandbox record, stays
  EXPECT_THAT(Reconcile(), IsEmpty());
}

}  // namespace
}  // namespace cricket::cri
