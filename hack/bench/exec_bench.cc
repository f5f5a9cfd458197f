// Streaming server benchmark, printed as JSON: sequential `exec true` round trips (mint the URL
// as the Exec RPC does, upgrade, open streams, run, read the status) and port-forward
// throughput to a loopback echo server, over SPDY and WebSocket. Loopback only.
// Usage: bench_exec [--execs N] [--forward-mib M]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cri/streaming/streaming_client.h"
#include "cri/streaming/streaming_server.h"
#include "tests/integration/streaming/echo_server.h"
#include "tests/integration/streaming/process_runtime.h"

namespace {

using namespace cricket::cri::streaming;  // NOLINT(google-build-using-namespace): a small main
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

struct ExecStats {
  double median_ms = 0;
  double p90_ms = 0;
  int failures = 0;
};

ExecStats BenchExec(StreamingServer& server, Transport transport, int count) {
  std::vector<double> samples;
  ExecStats stats;
  RemoteCommandOptions options;
  options.transport = transport;
  options.stderr = true;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    auto url = server.GetExec(ExecRequest{"bench", {"true"}, false, false, true, true});
    auto result = url.ok() ? RunRemoteCommand(*url, options) : url.error();
    if (!result.ok() || result->exit_code != 0) {
      ++stats.failures;
      continue;
    }
    samples.push_back(Ms(Clock::now() - start));
  }
  if (!samples.empty()) {
    stats.median_ms = Percentile(samples, 0.5);
    stats.p90_ms = Percentile(samples, 0.9);
  }
  return stats;
}

double BenchForward(StreamingServer& server, Transport transport, uint16_t port, size_t bytes) {
  std::string payload(bytes, 'x');
  auto url = server.GetPortForward(PortForwardRequest{"bench", {port}});
  if (!url.ok()) {
    return 0;
  }
  PortForwardOptions options{transport, port, std::chrono::seconds(120)};
  auto start = Clock::now();
  auto result = RunPortForward(*url, options, {payload});
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!result.ok() || (*result)[0].size() != bytes) {
    std::fprintf(stderr, "port-forward failed: %s\n",
                 result.ok() ? "short echo" : result.error().ToString().c_str());
    return 0;
  }
  return static_cast<double>(bytes) / 1e6 / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int execs = 200;
  size_t forward_mib = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--execs") == 0) {
      execs = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--forward-mib") == 0) {
      forward_mib = static_cast<size_t>(std::atol(argv[i + 1]));
    }
  }
  cricket::testing::ProcessRuntime runtime;
  runtime.AddSandbox("bench", "");
  auto server = StreamingServer::Start({}, runtime);
  auto echo = cricket::testing::EchoServer::Start();
  if (!server.ok() || !echo.ok()) {
    std::fprintf(stderr, "cannot start the server or the echo listener\n");
    return 1;
  }
  ExecStats spdy = BenchExec(**server, Transport::kSpdy, execs);
  ExecStats ws = BenchExec(**server, Transport::kWebSocket, execs);
  size_t bytes = forward_mib << 20;
  double spdy_mbps = BenchForward(**server, Transport::kSpdy, (*echo)->port(), bytes);
  double ws_mbps = BenchForward(**server, Transport::kWebSocket, (*echo)->port(), bytes);
  std::printf(
      "{\"exec_round_trips\": %d, \"exec_spdy_median_ms\": %.3f, \"exec_spdy_p90_ms\": %.3f, "
      "\"exec_ws_median_ms\": %.3f, \"exec_ws_p90_ms\": %.3f, \"exec_failures\": %d, "
      "\"portforward_bytes\": %zu, \"portforward_spdy_mb_per_s\": %.1f, "
      "\"portforward_ws_mb_per_s\": %.1f}\n",
      execs, spdy.median_ms, spdy.p90_ms, ws.median_ms, ws.p90_ms, spdy.failures + ws.failures,
      bytes, spdy_mbps, ws_mbps);
  bool ok = spdy.failures + ws.failures == 0 && spdy_mbps > 0 && ws_mbps > 0;
  return ok ? 0 : 1;
}
