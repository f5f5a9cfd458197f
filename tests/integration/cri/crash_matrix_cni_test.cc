// The crash matrix of the CNI backend (issue #14.1): every "cni_add." and "cni_del." fail point
// (network/cni_network.cc: before and after each plugin's ADD/DEL, around the result record)
// with kill and with error, through crash_harness.h, with cricketd's network backend set to CNI
// and Debian's containernetworking-plugins (bridge + host-local + portmap, installed offline by
// hack/deps) as the chain. The leak checker also watches host-local's lease dir and cricketd's
// CNI result cache; plugin iptables rules and veths name the pod, which it looks for already.
// CRICKET_CRASH_ROWS (a regex on "<point>=<action>") runs a subset when debugging.

#include <unistd.h>

#include <string>

#include "common/files.h"
#include "tests/integration/cri/crash_harness.h"
#include "tests/support/cri_calls.h"

namespace cricket::testing {
namespace {

namespace v1 = ::runtime::v1;

constexpr const char* kPluginDir = "/usr/lib/cni";
constexpr const char* kNetworkName = "crtest";

class CrashMatrixCniTest : public CrashMatrixFixture {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    for (const char* plugin : {"bridge", "host-local", "portmap"}) {
      if (::access((std::string(kPluginDir) + "/" + plugin).c_str(), X_OK) != 0) {
        GTEST_SKIP() << "containernetworking-plugins not installed (hack/deps installs it)";
      }
    }
    // The bridge has the name the harness gives the test's bridge: its TearDown deletes that
    // link and the leak checker counts the links on it. A subnet of the test's own, so
    // concurrent tests' bridges do not route over each other.
    const std::string subnet = "10.211." + std::to_string(::getpid() % 200) + ".0/24";
    const std::string conflist = R"({
      "cniVersion": "1.0.0", "name": ")" +
                                 std::string(kNetworkName) + R"(",
      "plugins": [
        {"type": "bridge", "bridge": ")" +
                                 Bridge() + R"(", "isGateway": true, "ipMasq": true,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": ")" +
                                 subnet + R"("}]],
                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": ")" +
                                 IpamDir() + R"("}},
        {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
      ]})";
    ASSERT_TRUE(MakeDirs(dir_.Join("net.d"), 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("net.d/10-crtest.conflist"), conflist, 0644).ok());
    CrashMatrixFixture::SetUp();
  }

  std::string NetworkSection() const override {
    return "[network]\nbackend = \"cni\"\ncni_conf_dir = \"" + dir_.Join("net.d") +
           "\"\ncni_bin_dirs = [\"" + kPluginDir + "\"]\n";
  }

  std::string BeforeBaseline() override {
    leaks().WatchDir(IpamDir() + "/" + kNetworkName);           // host-local: one file per lease
    leaks().WatchDir(root() + "/network/cni-cache");            // cricketd: one result per pod
    leaks().WatchDir(root() + "/network/cni-cache/hostports");  // its host-port claims
    return "";
  }

  static std::string Bridge() { return "crd" + std::to_string(::getpid() % 100000); }
  std::string IpamDir() const { return dir_.Join("ipam"); }

  // Every pod maps a host port, so portmap's rules are made (and must go) too.
  v1::PodSandboxConfig MatrixPod() {
    v1::PodSandboxConfig config = PodConfig("crash");
    auto* port = config.add_port_mappings();
    port->set_container_port(8080);
    port->set_host_port(20000 + ::getpid() % 20000);
    return config;
  }

  static grpc::Status StopOnlyPod(v1::RuntimeService::Stub& runtime) {
    grpc::ClientContext list_ctx;
    v1::ListPodSandboxResponse pods;
    grpc::Status listed = runtime.ListPodSandbox(&list_ctx, {}, &pods);
    if (!listed.ok() || pods.items_size() != 1) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "expected one pod, ListPodSandbox: " + std::to_string(pods.items_size()) +
                              " " + listed.error_message());
    }
    grpc::ClientContext ctx;
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(pods.items(0).id());
    v1::StopPodSandboxResponse resp;
    return runtime.StopPodSandbox(&ctx, req, &resp);
  }

  // cni_add.*: RunPodSandbox. After a kill each pod left answers and is usable when READY;
  // after an error no pod and nothing of the plugins is left.
  CrashScenario AddScenario() {
    CrashScenario s;
    s.rpc = [this](v1::RuntimeService::Stub& runtime) {
      std::string id;
      return RunPod(runtime, MatrixPod(), &id);
    };
    s.error_leaves_nothing = true;
    s.check = [](v1::RuntimeService::Stub& runtime, CrashAction action) -> std::string {
      if (action == CrashAction::kError && CountPods(runtime) != 0) {
        return "a failed RunPodSandbox left a pod";
      }
      return CheckPodsUsable(runtime);
    };
    return s;
  }

  // cni_del.*: StopPodSandbox of a running pod; the pod answers afterwards (and stays
  // removable, which the harness's removal checks).
  CrashScenario DelScenario() {
    CrashScenario s;
    s.prepare = [this](v1::RuntimeService::Stub& runtime) -> std::string {
      std::string id;
      grpc::Status run = RunPod(runtime, MatrixPod(), &id);
      return run.ok() ? "" : "RunPodSandbox: " + run.error_message();
    };
    s.rpc = &StopOnlyPod;
    s.check = [](v1::RuntimeService::Stub& runtime, CrashAction) {
      return CheckPodsUsable(runtime);
    };
    return s;
  }

  static int CountPods(v1::RuntimeService::Stub& runtime) {
    grpc::ClientContext ctx;
    v1::ListPodSandboxResponse pods;
    return runtime.ListPodSandbox(&ctx, {}, &pods).ok() ? pods.items_size() : -1;
  }
};

TEST_F(CrashMatrixCniTest, EveryFailPointKillAndError) {
  RunMatrix({"cni_add.", "cni_del."}, [this](const std::string& point) {
    return point.starts_with("cni_del.") ? DelScenario() : AddScenario();
  });
}

}  // namespace
}  // namespace cricket::testing
