#include "hack/bench/soak_leaks.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/subprocess.h"
#include "network/names.h"

namespace cricket::bench {
namespace {

namespace fs = std::filesystem;

struct Tally {
  nlohmann::json counts = nlohmann::json::object();
  std::vector<std::string> examples;

  void Add(const char* kind, const std::string& what) {
    counts[kind] = counts.value(kind, 0) + 1;
    if (examples.size() < 20) {
      examples.push_back(std::string(kind) + ": " + what);
    }
  }
};

// Entries of `dir` (none when it is missing), without the allocator's own "lock" and dot files.
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename();
    if (name != "lock" && !name.starts_with(".")) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> Pids() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") == std::string::npos) {
      out.push_back(name);
    }
  }
  return out;
}

void CountFiles(const SoakScope& scope, Tally& t) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    // The state dir's own tmpfs is the bench's, not cricketd's.
    if (line.find(scope.dir) != std::string::npos &&
        line.find(" " + scope.state + " ") == std::string::npos) {
      t.Add("mounts", line);
    }
  }
  for (const auto& name : Entries(scope.state + "/netns")) {
    t.Add("netns", scope.state + "/netns/" + name);
  }
  for (const auto& name : Entries(scope.state + "/shims")) {
    t.Add("shim_dirs", scope.state + "/shims/" + name);
  }
  for (const auto& name : Entries(scope.root + "/snapshots/containers")) {
    t.Add("snapshot_dirs", scope.root + "/snapshots/containers/" + name);
  }
  for (const auto& name : Entries(scope.root + "/network/" + scope.bridge + "/leases")) {
    t.Add("ip_leases", name);
  }
}

void CountNetwork(const SoakScope& scope, Tally& t) {
  for (const auto& pod : scope.pod_ids) {
    const std::string veth = network::HostVethName(pod);
    if (fs::exists("/sys/class/net/" + veth)) {
      t.Add("veths", veth);
    }
  }
  // Host port rules name their sandbox in a comment or DNAT to its address.
  auto saved = RunSubprocess({"/usr/sbin/iptables-save", "-t", "nat"});
  std::string rules = saved.ok() ? saved->out : "";
  size_t start = 0;
  while (start < rules.size()) {
    size_t end = rules.find('\n', start);
    std::string line = rules.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? rules.size() : end + 1;
    bool ours = false;
    for (const auto& pod : scope.pod_ids) {
      ours = ours || line.find("cricket sandbox " + pod) != std::string::npos;
    }
    for (const auto& ip : scope.pod_ips) {
      ours = ours || line.find("--to-destination " + ip + ":") != std::string::npos;
    }
    if (ours) {
      t.Add("iptables_rules", line);
    }
  }
}

// Cgroups named by a pod or container id (v1 hierarchies and v2), and processes still in one or
// naming the run's shim dirs.
void CountCgroupsAndProcesses(const SoakScope& scope, Tally& t) {
  std::error_code ec;
  std::vector<std::string> parents = {"/sys/fs/cgroup/cricket"};
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    parents.push_back(e.path().string() + "/cricket");
  }
  for (const auto& parent : parents) {
    for (const auto& name : Entries(parent)) {
      if (scope.pod_ids.contains(name) || scope.container_ids.contains(name)) {
        t.Add("cgroups", parent + "/" + name);
      }
    }
  }
  for (const auto& pid : Pids()) {
    const std::string cmdline = ReadFile("/proc/" + pid + "/cmdline").value_or("");
    const std::string cgroups = ReadFile("/proc/" + pid + "/cgroup").value_or("");
    bool ours = cmdline.find(scope.state + "/shims") != std::string::npos;
    for (size_t at = cgroups.find("/cricket/"); !ours && at != std::string::npos;
         at = cgroups.find("/cricket/", at + 1)) {
      std::string id = cgroups.substr(at + 9, cgroups.find_first_of("/\n", at + 9) - at - 9);
      ours = scope.pod_ids.contains(id) || scope.container_ids.contains(id);
    }
    if (ours) {
      t.Add("processes", pid + " " + cmdline.substr(0, cmdline.find('\0')));
    }
  }
}

}  // namespace

nlohmann::json CountLeaks(const SoakScope& scope) {
  Tally t;
  for (const char* kind : {"mounts", "netns", "veths", "ip_leases", "iptables_rules", "cgroups",
                           "processes", "shim_dirs", "snapshot_dirs"}) {
    t.counts[kind] = 0;
  }
  CountFiles(scope, t);
  CountNetwork(scope, t);
  CountCgroupsAndProcesses(scope, t);
  int total = 0;
  for (const auto& [kind, n] : t.counts.items()) {
    total += n.get<int>();
  }
  nlohmann::json out = t.counts;
  out["total"] = total;
  out["examples"] = t.examples;
  return out;
}

}  // namespace cricket::bench
