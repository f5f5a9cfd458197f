// Soak (issue #14.5): runs a cricketd of its own on a temp root and takes it through N pod
// cycles, one after another, as kubelet would: RunPodSandbox, CreateContainer, StartContainer,
// ExecSync, StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox. Cycle i mixes in,
// by i % 4: a hostPort mapping; a portable volume at /data (the same volume every time, so each
// cycle re-attaches what the last released); a second container killed by the OOM killer; a
// crash-looping container restarted three times as kubelet would (a new attempt each time).
// Prints one JSON line per tenth of the run as it goes (hack/bench/soak_progress.h: cricketd's
// RSS and fds then, p50/p99 pod start (RunPodSandbox + CreateContainer + StartContainer) of
// that tenth), then the final JSON: the figures at start/middle/end, the check that RSS and fds
// stay flat after warm-up (the first tenth, at least 50 cycles), failed calls, and the kernel
// objects left after the run (hack/bench/soak_leaks.h; 0 expected). Exit 1 when a call failed,
// anything leaked or a check failed. SIGTERM/SIGINT end the run after the current cycle: what is
// left is removed as at a normal end and the final JSON says "interrupted": true. Root; the bridge
// and ip_forward are restored at the end.
//
//   bench_soak IMAGE [--cycles N] [--rss-bound-kib K] [--cricketd PATH]   (defaults 500, 1024)

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "hack/bench/bench_daemon.h"
#include "hack/bench/bench_node.h"
#include "hack/bench/bench_stats.h"
#include "hack/bench/soak_leaks.h"
#include "hack/bench/soak_progress.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cri_calls.h"

namespace {

namespace v1 = ::runtime::v1;
namespace fs = std::filesystem;
namespace t = ::cricket::testing;
using Clock = std::chrono::steady_clock;

constexpr const char* kVolume = "soakvol";
// Stops at once on its stop signal (wait is interrupted by the trap), so a stop takes no grace
// period. The test image's StopSignal is SIGQUIT (hack/test-registry/make-images.py), which a
// shell ignores unless trapped: with TERM alone every StopContainer waited out its 10 s timeout
// and ended in SIGKILL, most of a cycle's time.
constexpr const char* kApp = "trap 'exit 0' TERM QUIT; busybox sleep 3600 & wait";

using ::cricket::bench::Ms;
using ::cricket::bench::Percentile;

// Set by SIGTERM/SIGINT; the run ends after the cycle under way.
volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct Args {
  std::string image;
  int cycles = 500;
  // How much cricketd's RSS may grow after the first tenth (see the README's soak figures).
  long rss_bound_kib = 1024;
  // The cricketd to run (its helpers beside it); a copy keeps a long run off later rebuilds.
  std::string cricketd = CRICKETD_PATH;
};

class Soak {
 public:
  explicit Soak(Args args)
      : args_(std::move(args)),
        node_("soak", "crsoak" + std::to_string(Tag())),
        dir_(node_.dir()),
        daemon_(node_, args_.cricketd),
        progress_(args_.cycles) {
    scope_.dir = dir_;
    scope_.root = node_.root();
    scope_.state = node_.state();
    scope_.bridge = node_.bridge();
    host_port_ = 40000 + Tag();
  }

  int Run();

 private:
  bool StartDaemon();
  void Cycle(int i);
  // Waits until the container has exited; its reason ("OOMKilled", "Error"…) or "" on timeout.
  std::string WaitExited(const std::string& id);
  // `config` created and started in `pod`: its id, or "" (the failed call is counted).
  std::string Launch(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                     const v1::ContainerConfig& config);
  bool Check(const char* call, const grpc::Status& status);
  void StopAndRemoveContainer(const std::string& id);
  void Finish(nlohmann::json& out);
  // Every pod and container the runtime still lists (a failed or interrupted cycle's), so the
  // leak count sees what removal leaves behind.
  void RemoveLeftovers(nlohmann::json& out);

  // This run's names and ports differ from another bench's or test's on the node.
  static int Tag() { return ::getpid() % 10000; }

  Args args_;
  cricket::bench::BenchNode node_;  // outlives daemon_: it removes what cricketd leaves
  std::string dir_;
  cricket::bench::SoakScope scope_;
  int host_port_ = 0;
  cricket::bench::BenchDaemon daemon_;
  std::vector<double> pod_start_ms_;
  cricket::bench::SoakProgress progress_;
  std::map<std::string, int> failures_;
  std::map<std::string, int> outcomes_;
};

bool Soak::StartDaemon() {
  (void)node_.WriteConfig("10.247.0.0/16",
                          cricket::bench::PortableVolumesToml(dir_ + "/shared", "soak"));
  return daemon_.Start(args_.image);
}

bool Soak::Check(const char* call, const grpc::Status& status) {
  if (!status.ok()) {
    if (failures_[call]++ < 3) {
      std::cerr << call << ": " << status.error_message() << "\n";
    }
  }
  return status.ok();
}

std::string Soak::Launch(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                         const v1::ContainerConfig& config) {
  std::string id;
  if (!Check("CreateContainer",
             t::CreateContainer(daemon_.runtime(), pod, pod_config, config, &id))) {
    return "";
  }
  scope_.container_ids.insert(id);
  if (!Check("StartContainer", t::StartContainer(daemon_.runtime(), id))) {
    StopAndRemoveContainer(id);
    return "";
  }
  return id;
}

std::string Soak::WaitExited(const std::string& id) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    grpc::ClientContext ctx;
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    if (!Check("ContainerStatus", daemon_.runtime().ContainerStatus(&ctx, req, &resp))) {
      return "";
    }
    if (resp.status().state() == v1::CONTAINER_EXITED) {
      return resp.status().reason().empty() ? "exited" : resp.status().reason();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

void Soak::StopAndRemoveContainer(const std::string& id) {
  grpc::ClientContext stop_ctx;
  v1::StopContainerRequest stop;
  stop.set_container_id(id);
  stop.set_timeout(10);
  v1::StopContainerResponse stopped;
  Check("StopContainer", daemon_.runtime().StopContainer(&stop_ctx, stop, &stopped));
  grpc::ClientContext rm_ctx;
  v1::RemoveContainerRequest rm;
  rm.set_container_id(id);
  v1::RemoveContainerResponse removed;
  Check("RemoveContainer", daemon_.runtime().RemoveContainer(&rm_ctx, rm, &removed));
}

void Soak::Cycle(int i) {
  const int kind = i % 4;  // 0 hostPort, 1 portable volume, 2 OOM kill, 3 crash loop
  v1::PodSandboxConfig pod_config = t::MakePodConfig("soak" + std::to_string(i), dir_ + "/logs");
  if (kind == 0) {
    v1::PortMapping& port = *pod_config.add_port_mappings();
    port.set_container_port(8080);
    port.set_host_port(host_port_);
  }
  const std::string volume = kind == 1 ? dir_ + "/shared/portable/" + kVolume : "";
  const auto t0 = Clock::now();
  std::string pod;
  if (!Check("RunPodSandbox", t::RunPod(daemon_.runtime(), pod_config, &pod))) {
    return;
  }
  scope_.pod_ids.insert(pod);
  const std::string app =
      Launch(pod, pod_config, t::MakeShellContainer("app", args_.image, kApp, volume));
  if (!app.empty()) {
    pod_start_ms_.push_back(Ms(Clock::now() - t0));
  }
  {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    if (Check("PodSandboxStatus", daemon_.runtime().PodSandboxStatus(&ctx, req, &resp)) &&
        !resp.status().network().ip().empty()) {
      scope_.pod_ips.insert(resp.status().network().ip());
    }
  }
  if (!app.empty()) {
    v1::ExecSyncResponse exec;
    const std::string script =
        kind == 1 ? "echo " + std::to_string(i) + " > /data/last && echo ok" : "echo ok";
    if (Check("ExecSync", t::ExecShell(daemon_.runtime(), app, script, 60, &exec)) &&
        (exec.exit_code() != 0 || exec.stdout() != "ok\n")) {
      ++failures_["ExecSync output"];
    }
  }
  if (kind == 2) {
    // Doubling a shell variable until the 32 MiB limit's OOM kill ends it.
    v1::ContainerConfig oom =
        t::MakeShellContainer("oom", args_.image, "x=0123456789abcdef; while :; do x=$x$x; done");
    oom.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
    if (std::string id = Launch(pod, pod_config, oom); !id.empty()) {
      ++outcomes_["oom_" + WaitExited(id)];
      StopAndRemoveContainer(id);
    }
  }
  if (kind == 3) {
    for (uint32_t attempt = 0; attempt < 3; ++attempt) {
      v1::ContainerConfig crash = t::MakeShellContainer("crash", args_.image, "exit 1");
      crash.mutable_metadata()->set_attempt(attempt);
      if (std::string id = Launch(pod, pod_config, crash); !id.empty()) {
        ++outcomes_["crash_" + WaitExited(id)];
        StopAndRemoveContainer(id);
      }
    }
  }
  if (!app.empty()) {
    StopAndRemoveContainer(app);
  }
  Check("StopPodSandbox/RemovePodSandbox", t::StopAndRemovePod(daemon_.runtime(), pod));
}

void Soak::RemoveLeftovers(nlohmann::json& out) {
  grpc::ClientContext ctx;
  v1::ListPodSandboxResponse pods;
  out["pods_listed_after"] =
      daemon_.runtime().ListPodSandbox(&ctx, {}, &pods).ok() ? pods.items_size() : -1;
  out["containers_listed_after"] = t::CountContainers(daemon_.runtime());
  for (const auto& pod : pods.items()) {
    scope_.pod_ids.insert(pod.id());
  }
  if (out["pods_listed_after"] != 0) {
    Check("RemoveAllPods (leftovers)", t::RemoveAllPods(daemon_.runtime()));
  }
}

void Soak::Finish(nlohmann::json& out) {
  // Pod start over the run: a drift shows as later tenths slower than the first.
  nlohmann::json tenths = nlohmann::json::array();
  for (const auto& line : progress_.tenths()) {
    tenths.push_back({{"p50_ms", line["p50_ms"]}, {"p99_ms", line["p99_ms"]}});
  }
  out["pod_start_by_tenth"] = tenths;
  out["pod_start"] = {{"p50_ms", Percentile(pod_start_ms_, 0.5)},
                      {"p99_ms", Percentile(pod_start_ms_, 0.99)}};
  out["cricketd"]["by_tenth"] = nlohmann::json::array();
  for (const auto& line : progress_.tenths()) {
    out["cricketd"]["by_tenth"].push_back(line["cricketd"]);
  }
  out["flat"] = progress_.Check(args_.rss_bound_kib, /*fd_bound=*/2);
  out["failed_calls"] = failures_;
  out["container_outcomes"] = outcomes_;
  RemoveLeftovers(out);
  out["leaks"] = cricket::bench::CountLeaks(scope_);
}

int Soak::Run() {
  nlohmann::json out;
  out["cycles"] = args_.cycles;
  const auto began = Clock::now();
  if (StartDaemon()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    out["cricketd"]["start"] = ToJson(cricket::bench::ReadProcessFigures(daemon_.pid()));
    int done = 0;
    while (done < args_.cycles && g_stop == 0) {
      Cycle(done);
      ++done;
      if (done == args_.cycles / 2) {
        out["cricketd"]["middle"] = ToJson(cricket::bench::ReadProcessFigures(daemon_.pid()));
      }
      const bool partial = g_stop != 0 && done < args_.cycles;
      if (auto line = progress_.CycleDone(done - 1, daemon_.pid(), pod_start_ms_, partial);
          !line.is_null()) {
        std::cout << line.dump() << std::endl;
      }
    }
    out["cycles_done"] = done;
    out["interrupted"] = done < args_.cycles;
    out["cricketd"]["end"] = ToJson(cricket::bench::ReadProcessFigures(daemon_.pid()));
    Finish(out);
    daemon_.Stop(std::chrono::seconds(30));
  } else {
    out["error"] = "cricketd did not start or the image could not be pulled";
  }
  out["seconds"] = std::chrono::duration<double>(Clock::now() - began).count();
  daemon_.Stop();
  std::cout << out.dump() << "\n";
  const bool clean = out.contains("leaks") && out["leaks"]["total"] == 0 && failures_.empty() &&
                     out["pods_listed_after"] == 0 && out["containers_listed_after"] == 0 &&
                     out["flat"]["ok"] == true;
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cycles" && i + 1 < argc) {
      args.cycles = std::stoi(argv[++i]);
    } else if (a == "--cricketd" && i + 1 < argc) {
      args.cricketd = argv[++i];
    } else if (a == "--rss-bound-kib" && i + 1 < argc) {
      args.rss_bound_kib = std::stol(argv[++i]);
    } else if (args.image.empty() && !a.starts_with("--")) {
      args.image = a;
    } else {
      std::cerr << "usage: bench_soak IMAGE [--cycles N] [--rss-bound-kib K] [--cricketd PATH]\n";
      return 2;
    }
  }
  if (args.image.empty() || ::geteuid() != 0 || args.cycles < 1) {
    std::cerr
        << "usage (as root): bench_soak IMAGE [--cycles N] [--rss-bound-kib K] [--cricketd PATH]\n";
    return 2;
  }
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;  // no SA_RESTART needed: the flag is read between cycles
  sigemptyset(&stop.sa_mask);
  ::sigaction(SIGTERM, &stop, nullptr);
  ::sigaction(SIGINT, &stop, nullptr);
  return Soak(args).Run();
}
