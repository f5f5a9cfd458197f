// cricketd's /metrics (issue #17.3) through a real cricketd (root): scrape, a pod round trip
// through CRI, scrape again — the call counters, the pull counters and the pod, container and
// shim gauges moved, every scrape passes our own format checker (and `promtool check metrics`
// when CRICKET_PROMTOOL names one or it is installed). A bad [metrics] address stops cricketd
// naming the key.

#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/cri/pod_fixture.h"
#include "tests/support/prometheus_format_check.h"
#include "tests/support/unix_http.h"

namespace cricket {
namespace {

using testing::CheckExposition;
using testing::CricketdFixture;
using testing::PodFixture;
namespace v1 = ::runtime::v1;

struct Scrape {
  std::string status_line;
  std::string body;
  // Sample lines by series ("name{labels}"), their values.
  std::map<std::string, double> values;

  double Get(const std::string& series) const {
    auto it = values.find(series);
    return it == values.end() ? -1 : it->second;
  }
};

// One HTTP request over the metrics unix socket.
Scrape Get(const std::string& socket_path, const std::string& target) {
  Scrape out;
  const std::string response = testing::UnixHttpExchange(
      socket_path, "GET " + target + " HTTP/1.1\r\nHost: cricketd\r\n\r\n");
  out.status_line = response.substr(0, response.find("\r\n"));
  size_t body = response.find("\r\n\r\n");
  out.body = body == std::string::npos ? "" : response.substr(body + 4);
  if (out.status_line != "HTTP/1.1 200 OK") {
    return out;  // a 404's body is prose
  }
  std::istringstream lines(out.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != '#') {
      size_t space = line.rfind(' ');
      out.values[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
  }
  return out;
}

// promtool from CRICKET_PROMTOOL, else /usr/bin or /usr/local/bin (Debian's `prometheus`
// package), or "". CRICKET_PROMTOOL naming no executable fails the test: CI sets it (hack/test)
// and must not pass without the check it asked for.
std::string FindPromtool() {
  if (const char* env = std::getenv("CRICKET_PROMTOOL"); env != nullptr && *env != '\0') {
    EXPECT_EQ(::access(env, X_OK), 0) << "CRICKET_PROMTOOL=" << env << " is not executable";
    return ::access(env, X_OK) == 0 ? env : "";
  }
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    std::string path = std::string(dir) + "/promtool";
    if (::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return "";
}

std::string Rpc(const std::string& method, const std::string& code) {
  return "grpc_server_handled_total{grpc_service=\"runtime.v1.RuntimeService\",grpc_method=\"" +
         method + "\",grpc_code=\"" + code + "\"}";
}

class PodPrometheusTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    // PodFixture started cricketd without metrics; again with them, on the same root.
    daemon_->Signal(SIGTERM);
    ASSERT_TRUE(daemon_->WaitExit(std::chrono::seconds(30)).has_value());
    metrics_socket_ = dir_.Join("metrics.sock");
    WriteConfig("[metrics]\naddress = \"unix://" + metrics_socket_ + "\"\n");
    Start();
  }

  Scrape Checked(const char* when) {
    Scrape scrape = Get(metrics_socket_, "/metrics");
    EXPECT_EQ(scrape.status_line, "HTTP/1.1 200 OK") << when;
    EXPECT_EQ(CheckExposition(scrape.body), "") << when << ":\n" << scrape.body;
    if (std::string promtool = FindPromtool(); !promtool.empty()) {
      const std::string file = dir_.Join("scrape.txt");
      EXPECT_TRUE(WriteFileAtomic(file, scrape.body, 0644).ok());
      // `check metrics` reads stdin; it exits non-zero on a format error, and also for lint
      // problems, which it prints: both must not happen.
      std::string cmd = promtool + " check metrics < " + file + " 2>&1";
      FILE* p = ::popen(cmd.c_str(), "r");
      std::string out;
      char buf[512];
      while (p != nullptr && std::fgets(buf, sizeof(buf), p) != nullptr) {
        out += buf;
      }
      int rc = p != nullptr ? ::pclose(p) : -1;
      EXPECT_EQ(rc, 0) << when << ": promtool check metrics:\n" << out;
    }
    return scrape;
  }

  std::string metrics_socket_;
};

TEST_F(PodPrometheusTest, CountersAndGaugesMoveWithAPodRoundTrip) {
  Scrape before = Checked("before");
  EXPECT_EQ(before.Get("cricket_pods{state=\"ready\"}"), 0);
  EXPECT_EQ(before.Get("cricket_containers{state=\"running\"}"), 0);
  EXPECT_EQ(before.Get("cricket_shims"), 0);
  EXPECT_EQ(before.Get("cricket_image_pulls_total{result=\"success\"}"), 0);
  EXPECT_EQ(before.Get(Rpc("RunPodSandbox", "OK")), -1) << "no call yet, no series";
  EXPECT_GT(before.Get("process_resident_memory_bytes"), 0);
  EXPECT_GT(before.Get("process_open_fds"), 0);
  EXPECT_GT(before.Get("process_threads"), 1);

  // A pull (the image is present: quick) and a pod with a running container.
  ASSERT_TRUE(testing::PullImage(*ImageStub(), image_).ok());
  auto pod_config = PodConfig("prom");
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "sleeper", "sleep 300", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  {
    grpc::ClientContext ctx;
    v1::ContainerStatusRequest req;
    req.set_container_id("no-such-container");
    v1::ContainerStatusResponse resp;
    EXPECT_EQ(runtime_->ContainerStatus(&ctx, req, &resp).error_code(), grpc::NOT_FOUND);
  }

  Scrape during = Checked("during");
  EXPECT_EQ(during.Get("cricket_pods{state=\"ready\"}"), 1);
  EXPECT_EQ(during.Get("cricket_containers{state=\"running\"}"), 1);
  EXPECT_EQ(during.Get("cricket_shims"), 2) << "the pod's infra shim and the container's";
  EXPECT_EQ(during.Get(Rpc("RunPodSandbox", "OK")), 1);
  EXPECT_EQ(during.Get(Rpc("CreateContainer", "OK")), 1);
  EXPECT_EQ(during.Get(Rpc("StartContainer", "OK")), 1);
  EXPECT_EQ(during.Get(Rpc("ContainerStatus", "NotFound")), 1);
  EXPECT_EQ(during.Get("grpc_server_handling_seconds_count{grpc_service=\"runtime.v1."
                       "RuntimeService\",grpc_method=\"RunPodSandbox\",grpc_code=\"OK\"}"),
            1);
  EXPECT_EQ(during.Get("grpc_server_handled_total{grpc_service=\"runtime.v1.ImageService\","
                       "grpc_method=\"PullImage\",grpc_code=\"OK\"}"),
            1);
  EXPECT_EQ(during.Get("cricket_image_pulls_total{result=\"success\"}"), 1);
  EXPECT_GT(during.Get("cricket_image_pull_bytes_total"), 0);
  EXPECT_EQ(during.Get("cricket_image_pull_duration_seconds_count"), 1);
  EXPECT_EQ(during.Get("cricket_streaming_sessions"), 0);

  ASSERT_TRUE(testing::StopAndRemovePod(*runtime_, pod).ok());
  Scrape after = Checked("after");
  EXPECT_EQ(after.Get("cricket_pods{state=\"ready\"}"), 0);
  EXPECT_EQ(after.Get("cricket_pods{state=\"notready\"}"), 0);
  EXPECT_EQ(after.Get("cricket_containers{state=\"running\"}"), 0);
  EXPECT_EQ(after.Get("cricket_shims"), 0);
  EXPECT_EQ(after.Get(Rpc("StopPodSandbox", "OK")), 1);
  EXPECT_EQ(after.Get(Rpc("RemovePodSandbox", "OK")), 1);
  EXPECT_EQ(after.Get(Rpc("RunPodSandbox", "OK")), 1);

  EXPECT_EQ(Get(metrics_socket_, "/").status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(Get(metrics_socket_, "/metrics/x").status_line, "HTTP/1.1 404 Not Found");
}

// Needs no pods: a config cricketd must refuse before it serves.
class MetricsConfigRefusedTest : public CricketdFixture {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    CricketdFixture::SetUp();
  }

  // cricketd's stderr after it exited non-zero with `extra` in its config.
  std::string RefusedWith(const std::string& extra) {
    WriteConfig(extra);
    auto daemon = Launch();
    auto code = daemon->WaitExit(std::chrono::seconds(30));
    EXPECT_TRUE(code.has_value() && *code != 0) << "cricketd started with:\n" << extra;
    EXPECT_NE(::access(socket().c_str(), F_OK), 0) << "no CRI socket was left";
    return daemon->Stderr();
  }
};

TEST_F(MetricsConfigRefusedTest, ABadOrUnusableAddressStopsCricketdNamingTheKey) {
  std::string bad = RefusedWith("[metrics]\naddress = \"localhost:9377\"\n");
  EXPECT_NE(bad.find("metrics.address"), std::string::npos) << bad;
  EXPECT_NE(bad.find("localhost:9377"), std::string::npos) << bad;

  // Valid, but a regular file sits at the path: refused at start-up, the file kept.
  const std::string file = dir_.Join("not-a-socket");
  ASSERT_TRUE(WriteFileAtomic(file, "keep", 0644).ok());
  std::string unusable = RefusedWith("[metrics]\naddress = \"" + file + "\"\n");
  EXPECT_NE(unusable.find("metrics.address " + file), std::string::npos) << unusable;
  EXPECT_EQ(ReadFile(file).value_or(""), "keep");
}

}  // namespace
}  // namespace cricket
