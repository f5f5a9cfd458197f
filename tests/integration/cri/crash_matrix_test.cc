// The crash matrix for pod sandboxes and the pod network (issue #14): every fail point of the
// "sandbox_" and "network_" groups, with kill and with error, through crash_harness.h.
// CRICKET_CRASH_ROWS (a regex on "<point>=<action>") runs a subset when debugging.

#include <unistd.h>


#include "tests/integration/cri/crash_harness.h"
#include "tests/support/cri_calls.h"

namespace cricket::testing {
namespace {

namespace v1 = ::runtime::v1;

class CrashMatrixPodsTest : public CrashMatrixFixture {
 protected:
  // Every pod of the matrix maps a host port, so the host-port rules are made and checked too.
  v1::PodSandboxConfig MatrixPod() {
    v1::PodSandboxConfig config = PodConfig("crash");
    auto* port = config.add_port_mappings();
    port->set_container_port(8080);
    port->set_host_port(20000 + ::getpid() % 20000);
    return config;
  }

  std::string RunOnePod(v1::RuntimeService::Stub& runtime) {
    std::string id;
    grpc::Status s = RunPod(runtime, MatrixPod(), &id);
    return s.ok() ? "" : "RunPodSandbox: " + s.error_message();
  }

  static std::string OnlyPodId(v1::RuntimeService::Stub& runtime, std::string* id) {
    grpc::ClientContext ctx;
    v1::ListPodSandboxResponse pods;
    grpc::Status s = runtime.ListPodSandbox(&ctx, {}, &pods);
    if (!s.ok() || pods.items_size() != 1) {
      return "expected one pod, ListPodSandbox: " + std::to_string(pods.items_size()) + " " +
             s.error_message();
    }
    *id = pods.items(0).id();
    return "";
  }

  static grpc::Status Stop(v1::RuntimeService::Stub& runtime) {
    std::string id;
    if (std::string why = OnlyPodId(runtime, &id); !why.empty()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, why);
    }
    grpc::ClientContext ctx;
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse resp;
    return runtime.StopPodSandbox(&ctx, req, &resp);
  }

  static grpc::Status Remove(v1::RuntimeService::Stub& runtime) {
    std::string id;
    if (std::string why = OnlyPodId(runtime, &id); !why.empty()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, why);
    }
    grpc::ClientContext ctx;
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse resp;
    return runtime.RemovePodSandbox(&ctx, req, &resp);
  }

  // After a kill: each pod left answers its status and is usable when READY; after an error of
  // RunPodSandbox: no pod at all.
  CrashScenario RunScenario() {
    CrashScenario s;
    s.rpc = [this](v1::RuntimeService::Stub& runtime) {
      std::string id;
      return RunPod(runtime, MatrixPod(), &id);
    };
    s.error_leaves_nothing = true;
    s.check = [](v1::RuntimeService::Stub& runtime, CrashAction action) -> std::string {
      if (action == CrashAction::kError) {
        grpc::ClientContext ctx;
        v1::ListPodSandboxResponse pods;
        grpc::Status listed = runtime.ListPodSandbox(&ctx, {}, &pods);
        if (!listed.ok() || pods.items_size() != 0) {
          return "a failed RunPodSandbox left " + std::to_string(pods.items_size()) + " pod(s)";
        }
      }
      return CheckPodsUsable(runtime);
    };
    return s;
  }

  // The pod the call worked on answers its status and is usable when READY (kill), or is still
  // there and usable after the failed call (error). Its removal is the harness's.
  CrashScenario OnPodScenario(bool remove) {
    CrashScenario s;
    s.prepare = [this, remove](v1::RuntimeService::Stub& runtime) -> std::string {
      std::string made = RunOnePod(runtime);
      if (!made.empty() || !remove) {
        return made;
      }
      grpc::Status stopped = Stop(runtime);
      return stopped.ok() ? "" : "StopPodSandbox: " + stopped.error_message();
    };
    s.rpc = remove ? &Remove : &Stop;
    s.check = [](v1::RuntimeService::Stub& runtime, CrashAction) {
      return CheckPodsUsable(runtime);
    };
    return s;
  }

  CrashScenario ScenarioFor(const std::string& point) {
    if (point.starts_with("sandbox_stop.") || point.starts_with("network_teardown.")) {
      return OnPodScenario(/*remove=*/false);
    }
    if (point.starts_with("sandbox_remove.")) {
      return OnPodScenario(/*remove=*/true);
    }
    return RunScenario();  // sandbox_run.*, network_setup.*
  }
};

TEST_F(CrashMatrixPodsTest, EveryFailPointKillAndError) {
  RunMatrix({"sandbox_", "network_"}, [this](const std::string& point) { return ScenarioFor(point); });
}

}  // namespace
}  // namespace cricket::testing
