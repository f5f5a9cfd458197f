// The crash matrix of containers and cricket-shim (issue #14.1), through crash_harness.h: every
// fail point of the "container_" group (CreateContainer, StartContainer, StopContainer,
// RemoveContainer, UpdateContainerResources) and of the "shim." group (the container shim's
// create, start and exit record), with kill and with error. Each row makes a pod (and the
// container the call needs) on the daemon with the fail point, makes the call, and then checks
// that the container is gone or usable: its status answers, a created one starts; after an
// error, a failed create left no container and a failed start left none running. The harness
// then removes everything with the normal RPCs and finds no leak.
// CRICKET_CRASH_ROWS (a regex on "<point>=<action>") runs a subset when debugging.

#include <unistd.h>

#include <filesystem>

#include "tests/integration/cri/crash_harness.h"
#include "tests/support/cri_calls.h"
#include "tests/support/registry_fixture.h"

namespace cricket::testing {
namespace {

namespace v1 = ::runtime::v1;

enum class Op { kCreate, kStart, kStop, kRemove, kUpdate };

// What the call of a point's row is: its group's RPC; the shim's points by the step the shim
// takes (create in CreateContainer, start in StartContainer, the exit record in StopContainer).
Op OpFor(const std::string& point) {
  if (point.starts_with("container_create.") || point.starts_with("shim.before_create") ||
      point.starts_with("shim.after_create")) {
    return Op::kCreate;
  }
  if (point.starts_with("container_start.") || point.starts_with("shim.after_start")) {
    return Op::kStart;
  }
  if (point.starts_with("container_remove.")) {
    return Op::kRemove;
  }
  if (point.starts_with("container_update.")) {
    return Op::kUpdate;
  }
  return Op::kStop;  // container_stop.*, shim.before_exit_record
}

class CrashMatrixContainersTest : public CrashMatrixFixture {
 protected:
  void SetUp() override {
    image_ = RegistryFixtureEnv()["REGISTRY"];
    if (image_.empty()) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest";
    }
    image_ += "/test/busybox:latest";
    CrashMatrixFixture::SetUp();
  }

  std::string BeforeBaseline() override {
    // cricketd makes the bundles' parent on the first container and keeps it: the baseline's.
    std::filesystem::create_directories(state() + "/containers");
    grpc::Status pulled = PullImage(images(), image_);
    return pulled.ok() ? "" : "PullImage: " + pulled.error_message();
  }

  grpc::Status Create(v1::RuntimeService::Stub& runtime) {
    v1::ContainerConfig config = MakeShellContainer("app", image_, "exec busybox sleep 1000");
    return CreateContainer(runtime, pod_, pod_config_, config, &ctr_);
  }

  static grpc::Status Call(v1::RuntimeService::Stub& runtime, Op op, const std::string& id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
    switch (op) {
      case Op::kStart: {
        v1::StartContainerRequest req;
        req.set_container_id(id);
        v1::StartContainerResponse resp;
        return runtime.StartContainer(&ctx, req, &resp);
      }
      case Op::kStop: {
        v1::StopContainerRequest req;
        req.set_container_id(id);
        req.set_timeout(10);
        v1::StopContainerResponse resp;
        return runtime.StopContainer(&ctx, req, &resp);
      }
      case Op::kRemove: {
        v1::RemoveContainerRequest req;
        req.set_container_id(id);
        v1::RemoveContainerResponse resp;
        return runtime.RemoveContainer(&ctx, req, &resp);
      }
      case Op::kUpdate: {
        v1::UpdateContainerResourcesRequest req;
        req.set_container_id(id);
        req.mutable_linux()->set_cpu_shares(512);
        v1::UpdateContainerResourcesResponse resp;
        return runtime.UpdateContainerResources(&ctx, req, &resp);
      }
      case Op::kCreate:
        break;
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "no call");
  }

  static grpc::Status StatusOf(v1::RuntimeService::Stub& runtime, const std::string& id,
                               v1::ContainerStatus* out) {
    grpc::ClientContext ctx;
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    grpc::Status s = runtime.ContainerStatus(&ctx, req, &resp);
    *out = resp.status();
    return s;
  }

  // The containers of the row's pod: none, or one that answers its status and, created, starts.
  // After an error: a failed create left none, a failed start none running.
  std::string Check(v1::RuntimeService::Stub& runtime, Op op, CrashAction action) {
    grpc::ClientContext ctx;
    v1::ListContainersResponse listed;
    if (grpc::Status s = runtime.ListContainers(&ctx, {}, &listed); !s.ok()) {
      return "ListContainers: " + s.error_message();
    }
    if (listed.containers_size() > 1) {
      return std::to_string(listed.containers_size()) + " containers, expected at most one";
    }
    if (listed.containers_size() == 0) {
      return "";
    }
    const std::string id = listed.containers(0).id();
    if (action == CrashAction::kError && op == Op::kCreate) {
      return "a failed CreateContainer left container " + id;
    }
    v1::ContainerStatus status;
    if (grpc::Status s = StatusOf(runtime, id, &status); !s.ok()) {
      return "ContainerStatus " + id + ": " + s.error_message();
    }
    if (action == CrashAction::kError && op == Op::kStart &&
        status.state() == v1::CONTAINER_RUNNING) {
      return "a failed StartContainer left the container running";
    }
    if (status.state() == v1::CONTAINER_CREATED) {
      if (grpc::Status s = Call(runtime, Op::kStart, id); !s.ok()) {
        return "a created container does not start: " + s.error_message();
      }
      if (grpc::Status s = StatusOf(runtime, id, &status);
          !s.ok() || status.state() != v1::CONTAINER_RUNNING) {
        return "started, but not running: " + v1::ContainerState_Name(status.state());
      }
    }
    return "";
  }

  CrashScenario ScenarioFor(const std::string& point) {
    const Op op = OpFor(point);
    CrashScenario scenario;
    scenario.point_in_cricketd = !point.starts_with("shim.");
    scenario.prepare = [this, op](v1::RuntimeService::Stub& runtime) -> std::string {
      pod_config_ = PodConfig("crash");
      ctr_.clear();
      if (grpc::Status s = RunPod(runtime, pod_config_, &pod_); !s.ok()) {
        return "RunPodSandbox: " + s.error_message();
      }
      if (op == Op::kCreate) {
        return "";
      }
      if (grpc::Status s = Create(runtime); !s.ok()) {
        return "CreateContainer: " + s.error_message();
      }
      if (op == Op::kStart) {
        return "";
      }
      grpc::Status started = Call(runtime, Op::kStart, ctr_);
      return started.ok() ? "" : "StartContainer: " + started.error_message();
    };
    scenario.rpc = [this, op, point](v1::RuntimeService::Stub& runtime) {
      if (op == Op::kCreate) {
        return Create(runtime);
      }
      grpc::Status called = Call(runtime, op, ctr_);
      // The shim keeps an exit it could not record and answers it from memory, so the stop
      // succeeds; what failed is the record on disk, which must be missing.
      if (called.ok() && point == "shim.before_exit_record") {
        const std::string record = state() + "/shims/" + ctr_.substr(0, 16) + "/exit.json";
        return std::filesystem::exists(record)
                   ? grpc::Status(grpc::StatusCode::INTERNAL, "the exit record was written")
                   : grpc::Status(grpc::StatusCode::UNAVAILABLE, "exit record not written");
      }
      return called;
    };
    scenario.check = [this, op](v1::RuntimeService::Stub& runtime, CrashAction action) {
      return Check(runtime, op, action);
    };
    return scenario;
  }

  std::string image_;
  std::string pod_;
  v1::PodSandboxConfig pod_config_;
  std::string ctr_;
};

TEST_F(CrashMatrixContainersTest, EveryFailPointKillAndError) {
  RunMatrix({"container_", "shim."}, [this](const std::string& point) { return ScenarioFor(point); });
}

}  // namespace
}  // namespace cricket::testing
