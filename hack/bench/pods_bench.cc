// Pod start benchmark (issue #5): runs a cricketd of its own on a temp root, pulls the image
// once, then starts N pods one after another, each with one busybox container, as kubelet
// would: RunPodSandbox, CreateContainer, StartContainer. Prints JSON: median and p90 (ms) of
// each call and of the whole pod start, cricketd's RSS idle and with `--running` pods up, and
// the per-container shim RSS/PSS, where cricketd's and one shim's RSS is (see MemoryBreakdown),
// and the round trip of an ExecSync into a running container ("exec_sync_true"). Root; the bridge
// and ip_forward are restored at the end.
//
//   bench_pods IMAGE [--pods N] [--running M]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
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

namespace {

namespace v1 = ::runtime::v1;
using Clock = std::chrono::steady_clock;

using ::cricket::bench::Ms;
using ::cricket::bench::Percentile;

nlohmann::json Summary(const std::vector<double>& v) {
  return {{"median_ms", Percentile(v, 0.5)}, {"p90_ms", Percentile(v, 0.9)}};
}

// A /proc field in KiB: "VmRSS:" of status, "Pss:" of smaps_rollup.
long KibField(pid_t pid, const std::string& file, const std::string& key) {
  auto text = cricket::ReadFile("/proc/" + std::to_string(pid) + "/" + file);
  if (!text.ok()) {
    return -1;
  }
  size_t at = text->find("\n" + key);
  if (at == std::string::npos) {
    return -1;
  }
  return std::stol(text->substr(at + key.size() + 1));
}

// Where a process's resident memory is, from /proc/<pid>/smaps, in KiB: its own binary,
// shared libraries (the top ones by name), the malloc heap, other anonymous memory (thread
// stacks, mmapped arenas), the main stack; plus its thread count. RSS counts a shared library's
// pages in every process that touched them; PSS divides them among those processes.
nlohmann::json MemoryBreakdown(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  auto smaps = cricket::ReadFile(proc + "/smaps");
  if (!smaps.ok()) {
    return nullptr;
  }
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink(proc + "/exe", ec).string();
  std::map<std::string, long> by_kind;
  std::map<std::string, long> libs;
  std::string kind;
  std::string lib;
  std::istringstream lines(*smaps);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("Rss:")) {
      long kib = std::stol(line.substr(4));
      by_kind[kind] += kib;
      if (kind == "libs") {
        libs[lib] += kib;
      }
      continue;
    }
    // A mapping's header: "start-end perms offset dev inode [path]"; field lines have no '-'
    // in their first word.
    std::istringstream header(line);
    std::string range, perms, offset, dev, inode, path;
    header >> range >> perms >> offset >> dev >> inode;
    if (range.find('-') == std::string::npos || inode.empty()) {
      continue;
    }
    std::getline(header >> std::ws, path);
    lib.clear();
    if (path.empty()) {
      kind = "anon";
    } else if (path == exe) {
      kind = "binary";
    } else if (path == "[heap]" || path == "[stack]") {
      kind = path.substr(1, path.size() - 2);
    } else if (path.find(".so") != std::string::npos) {
      kind = "libs";
      lib = std::filesystem::path(path).filename();
    } else {
      kind = "other";
    }
  }
  nlohmann::json out = by_kind;
  std::vector<std::pair<long, std::string>> top;
  for (const auto& [name, kib] : libs) {
    top.emplace_back(kib, name);
  }
  std::sort(top.rbegin(), top.rend());
  top.resize(std::min<size_t>(top.size(), 6));
  for (const auto& [kib, name] : top) {
    out["top_libs"][name] = kib;
  }
  out["threads"] = std::distance(std::filesystem::directory_iterator(proc + "/task", ec),
                                 std::filesystem::directory_iterator());
  return out;
}

// Pids of processes whose command line contains `needle`.
std::vector<pid_t> PidsNaming(const std::string& needle) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    if (cricket::ReadFile(entry.path().string() + "/cmdline").value_or("").find(needle) !=
        std::string::npos) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

constexpr const char* kSubnet = "10.251.0.0/16";

// `busybox true` run `n` times by ExecSync in a running container: a real container exec (the
// shim forks it into the container's namespaces and cgroup), each call's round trip in ms.
std::vector<double> ExecSyncTimes(v1::RuntimeService::Stub& runtime, const std::string& id, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    v1::ExecSyncRequest req;
    req.set_container_id(id);
    req.add_cmd("busybox");
    req.add_cmd("true");
    req.set_timeout(10);
    v1::ExecSyncResponse resp;
    const auto t0 = Clock::now();
    auto s = runtime.ExecSync(&ctx, req, &resp);
    if (!s.ok() || resp.exit_code() != 0) {
      std::cerr << "ExecSync: " << s.error_message() << " exit " << resp.exit_code() << "\n";
      break;
    }
    ms.push_back(Ms(Clock::now() - t0));
  }
  return ms;
}

struct Args {
  std::string image;
  int pods = 30;
  int running = 20;
};

int Run(const Args& args) {
  cricket::bench::BenchNode node("pods", "crbench" + std::to_string(::getpid() % 10000));
  const std::string dir = node.dir();
  const std::string state = node.state();
  (void)node.WriteConfig(kSubnet);
  nlohmann::json out;
  out["state_on_tmpfs"] = node.state_on_tmpfs();
  {
    cricket::bench::BenchDaemon daemon(node, CRICKETD_PATH);
    if (!daemon.Start(args.image)) {
      return 1;
    }
    v1::RuntimeService::Stub* runtime = &daemon.runtime();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    out["cricketd_rss_idle_kib"] = KibField(daemon.pid(), "status", "VmRSS:");
    out["cricketd_idle_kib"] = MemoryBreakdown(daemon.pid());

    std::vector<double> run_ms, create_ms, start_ms, total_ms;
    std::string running_container;  // one of the pods kept running, for the exec figures
    for (int i = 0; i < args.pods; ++i) {
      v1::PodSandboxConfig pod;
      pod.mutable_metadata()->set_name("bench" + std::to_string(i));
      pod.mutable_metadata()->set_namespace_("default");
      pod.mutable_metadata()->set_uid("uid-bench" + std::to_string(i));
      pod.set_log_directory(dir + "/logs/" + std::to_string(i));
      const auto t0 = Clock::now();
      grpc::ClientContext run_ctx;
      v1::RunPodSandboxRequest run_req;
      *run_req.mutable_config() = pod;
      v1::RunPodSandboxResponse run_resp;
      auto s = runtime->RunPodSandbox(&run_ctx, run_req, &run_resp);
      const auto t1 = Clock::now();
      if (!s.ok()) {
        std::cerr << "RunPodSandbox: " << s.error_message() << "\n";
        break;
      }
      grpc::ClientContext create_ctx;
      v1::CreateContainerRequest create_req;
      create_req.set_pod_sandbox_id(run_resp.pod_sandbox_id());
      *create_req.mutable_sandbox_config() = pod;
      auto& c = *create_req.mutable_config();
      c.mutable_metadata()->set_name("c");
      c.mutable_image()->set_image(args.image);
      c.add_command("busybox");
      c.add_args("sleep");
      c.add_args("3600");
      c.set_log_path("c.log");
      v1::CreateContainerResponse create_resp;
      s = runtime->CreateContainer(&create_ctx, create_req, &create_resp);
      const auto t2 = Clock::now();
      if (!s.ok()) {
        std::cerr << "CreateContainer: " << s.error_message() << "\n";
        break;
      }
      grpc::ClientContext start_ctx;
      v1::StartContainerRequest start_req;
      start_req.set_container_id(create_resp.container_id());
      v1::StartContainerResponse start_resp;
      s = runtime->StartContainer(&start_ctx, start_req, &start_resp);
      const auto t3 = Clock::now();
      if (!s.ok()) {
        std::cerr << "StartContainer: " << s.error_message() << "\n";
        break;
      }
      if (i < args.running) {
        running_container = create_resp.container_id();
      }
      run_ms.push_back(Ms(t1 - t0));
      create_ms.push_back(Ms(t2 - t1));
      start_ms.push_back(Ms(t3 - t2));
      total_ms.push_back(Ms(t3 - t0));
      // Beyond the pods kept running, each pod goes again at once: the node stays small.
      if (i >= args.running) {
        grpc::ClientContext stop_ctx;
        v1::StopPodSandboxRequest stop;
        stop.set_pod_sandbox_id(run_resp.pod_sandbox_id());
        v1::StopPodSandboxResponse stopped;
        (void)runtime->StopPodSandbox(&stop_ctx, stop, &stopped);
        grpc::ClientContext rm_ctx;
        v1::RemovePodSandboxRequest rm;
        rm.set_pod_sandbox_id(run_resp.pod_sandbox_id());
        v1::RemovePodSandboxResponse removed;
        (void)runtime->RemovePodSandbox(&rm_ctx, rm, &removed);
      }
      if (i + 1 == args.running) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        out["cricketd_rss_with_running_pods_kib"] = KibField(daemon.pid(), "status", "VmRSS:");
        out["running_pods"] = args.running;
        // Every pod has two shims: its infra process's and its container's.
        std::vector<double> rss, pss;
        for (pid_t pid : PidsNaming(state + "/shims/")) {
          if (pid == daemon.pid()) {
            continue;
          }
          if (rss.empty()) {
            out["shim_kib"] = MemoryBreakdown(pid);
          }
          rss.push_back(static_cast<double>(KibField(pid, "status", "VmRSS:")));
          pss.push_back(static_cast<double>(KibField(pid, "smaps_rollup", "Pss:")));
        }
        out["shims"] = rss.size();
        out["shim_rss_kib_median"] = Percentile(rss, 0.5);
        out["shim_pss_kib_median"] = Percentile(pss, 0.5);
      }
    }
    out["pods"] = total_ms.size();
    out["run_pod_sandbox"] = Summary(run_ms);
    out["create_container"] = Summary(create_ms);
    out["start_container"] = Summary(start_ms);
    out["pod_start"] = Summary(total_ms);
    if (!running_container.empty()) {
      out["exec_sync_true"] = Summary(ExecSyncTimes(*runtime, running_container, 50));
    }

    daemon.Stop(std::chrono::seconds(10));
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pods" && i + 1 < argc) {
      args.pods = std::stoi(argv[++i]);
    } else if (a == "--running" && i + 1 < argc) {
      args.running = std::stoi(argv[++i]);
    } else if (args.image.empty() && !a.starts_with("--")) {
      args.image = a;
    } else {
      std::cerr << "usage: bench_pods IMAGE [--pods N] [--running M]\n";
      return 2;
    }
  }
  if (args.image.empty() || ::geteuid() != 0) {
    std::cerr << "usage (as root): bench_pods IMAGE [--pods N] [--running M]\n";
    return 2;
  }
  args.running = std::min(args.running, args.pods);
  return Run(args);
}
