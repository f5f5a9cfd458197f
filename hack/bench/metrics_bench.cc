// CRI metrics cost (issue #16): runs a cricketd of its own on a temp root, starts N pods with
// one busybox `sleep` container each, then calls ListPodSandboxMetrics K times and reads
// cricketd's CPU time (utime+stime of /proc/<pid>/stat) before and after. Prints JSON: CPU
// seconds per scrape, the share of one CPU that costs at kubelet's 10 s scrape interval (goal:
// < 1 %), cricketd's idle CPU over the same wall time for comparison, the wall time per scrape
// and the size of one answer. Root; the bridge and ip_forward are restored at the end.
//
//   bench_metrics IMAGE [--pods N] [--scrapes K]        (defaults 100 and 20)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "hack/bench/bench_daemon.h"
#include "hack/bench/bench_node.h"
#include "hack/bench/bench_stats.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cri_calls.h"

namespace {

namespace v1 = ::runtime::v1;
using Clock = std::chrono::steady_clock;
using ::cricket::bench::Ms;
using ::cricket::bench::Percentile;

constexpr const char* kSubnet = "10.252.0.0/16";
constexpr double kScrapeIntervalS = 10.0;

struct Args {
  std::string image;
  int pods = 100;
  int scrapes = 20;
};

// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat, after the command
// name, which may hold spaces: parse from the last ')').
double CpuSeconds(pid_t pid) {
  auto stat = cricket::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) {
    return -1;
  }
  std::istringstream fields(stat->substr(stat->rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

bool StartPods(v1::RuntimeService::Stub& runtime, const Args& args, const std::string& logs,
               nlohmann::json& out) {
  std::vector<double> start_ms;
  for (int i = 0; i < args.pods; ++i) {
    const auto t0 = Clock::now();
    v1::PodSandboxConfig pod = cricket::testing::MakePodConfig("m" + std::to_string(i), logs);
    std::string pod_id;
    std::string ctr_id;
    grpc::Status s = cricket::testing::RunPod(runtime, pod, &pod_id);
    if (s.ok()) {
      s = cricket::testing::CreateContainer(
          runtime, pod_id, pod,
          cricket::testing::MakeShellContainer("c", args.image, "exec busybox sleep 3600"),
          &ctr_id);
    }
    if (s.ok()) {
      s = cricket::testing::StartContainer(runtime, ctr_id);
    }
    if (!s.ok()) {
      std::cerr << "pod " << i << ": " << s.error_message() << "\n";
      return false;
    }
    start_ms.push_back(Ms(Clock::now() - t0));
  }
  out["pod_start_median_ms"] = Percentile(start_ms, 0.5);
  return true;
}

void Scrape(v1::RuntimeService::Stub& runtime, const Args& args, pid_t daemon,
            nlohmann::json& out) {
  // Warm-up: the first answer pays for page faults and allocator growth once.
  {
    grpc::ClientContext ctx;
    v1::ListPodSandboxMetricsResponse resp;
    if (auto s = runtime.ListPodSandboxMetrics(&ctx, {}, &resp); !s.ok()) {
      std::cerr << "ListPodSandboxMetrics: " << s.error_message() << "\n";
      return;
    }
    size_t samples = 0;
    for (const auto& pod : resp.pod_metrics()) {
      samples += static_cast<size_t>(pod.metrics_size());
      for (const auto& ctr : pod.container_metrics()) {
        samples += static_cast<size_t>(ctr.metrics_size());
      }
    }
    out["pods_reported"] = resp.pod_metrics_size();
    out["samples_per_scrape"] = samples;
    out["answer_bytes"] = resp.ByteSizeLong();
  }
  // cricketd's own CPU with nobody calling, over a wall time like the scrapes' below.
  const double idle0 = CpuSeconds(daemon);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double idle_per_s = (CpuSeconds(daemon) - idle0) / 3.0;

  std::vector<double> wall_ms;
  const auto t0 = Clock::now();
  const double cpu0 = CpuSeconds(daemon);
  for (int i = 0; i < args.scrapes; ++i) {
    const auto s0 = Clock::now();
    grpc::ClientContext ctx;
    v1::ListPodSandboxMetricsResponse resp;
    if (auto s = runtime.ListPodSandboxMetrics(&ctx, {}, &resp); !s.ok()) {
      std::cerr << "ListPodSandboxMetrics: " << s.error_message() << "\n";
      return;
    }
    wall_ms.push_back(Ms(Clock::now() - s0));
  }
  const double cpu = CpuSeconds(daemon) - cpu0;
  const double wall_s = Ms(Clock::now() - t0) / 1000.0;
  const double per_scrape = cpu / args.scrapes;
  out["scrapes"] = args.scrapes;
  out["cricketd_cpu_s_per_scrape"] = per_scrape;
  // Idle CPU over the scrapes' wall time, taken out: what the scrapes themselves cost.
  out["cricketd_idle_cpu_s_per_s"] = idle_per_s;
  out["cricketd_cpu_s_per_scrape_minus_idle"] =
      std::max(0.0, (cpu - idle_per_s * wall_s) / args.scrapes);
  out["cpu_percent_at_10s_interval"] = 100.0 * per_scrape / kScrapeIntervalS;
  out["scrape_wall_ms_median"] = Percentile(wall_ms, 0.5);
  out["scrape_wall_ms_p90"] = Percentile(wall_ms, 0.9);
  out["clk_tck"] = ::sysconf(_SC_CLK_TCK);
  out["loadavg"] = cricket::ReadFile("/proc/loadavg").value_or("");
}

int Run(const Args& args) {
  cricket::bench::BenchNode node("metrics", "crbm" + std::to_string(::getpid() % 100000));
  (void)node.WriteConfig(kSubnet);
  nlohmann::json out;
  out["pods"] = args.pods;
  int rc = 0;
  {
    cricket::bench::BenchDaemon daemon(node, CRICKETD_PATH);
    if (!daemon.Start(args.image) ||
        !StartPods(daemon.runtime(), args, node.dir() + "/logs", out)) {
      rc = 1;
    } else {
      Scrape(daemon.runtime(), args, daemon.pid(), out);
    }
  }
  std::cout << out.dump() << "\n";
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pods" && i + 1 < argc) {
      args.pods = std::stoi(argv[++i]);
    } else if (a == "--scrapes" && i + 1 < argc) {
      args.scrapes = std::max(1, std::stoi(argv[++i]));
    } else if (args.image.empty() && !a.starts_with("--")) {
      args.image = a;
    } else {
      std::cerr << "usage: bench_metrics IMAGE [--pods N] [--scrapes K]\n";
      return 2;
    }
  }
  if (args.image.empty() || ::geteuid() != 0) {
    std::cerr << "usage (as root): bench_metrics IMAGE [--pods N] [--scrapes K]\n";
    return 2;
  }
  return Run(args);
}
