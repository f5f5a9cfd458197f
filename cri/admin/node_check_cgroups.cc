// Cgroup rows of `cricketctl check`: the hierarchy mode, each controller Cricket sets limits
// with, and systemd as PID 1 when the config asks for the systemd driver.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cri/admin/node_check_internal.h"
#include "oci/cgroup_detect.h"

namespace cricket::cri::admin::internal {

namespace {

struct Controller {
  const char* name;     // v2 name
  const char* v1_name;  // its v1 name
  bool required;
  const char* cost;
};

// What each controller's absence costs. cpu, memory and pids carry the limits every pod spec
// may ask for; devices (v1) is the device allow-list, a protection.
constexpr Controller kControllers[] = {
    {"cpu", "cpu", true, "CPU requests and limits cannot be applied to containers"},
    {"memory", "memory", true, "memory limits cannot be applied, OOM kills not reported"},
    {"pids", "pids", true, "pid limits cannot be applied (a fork bomb reaches the node)"},
    {"cpuset", "cpuset", false, "containers cannot be pinned to CPUs (static CPU manager)"},
    {"io", "blkio", false, "no I/O weights or statistics"},
    {"hugetlb", "hugetlb", false, "hugepage limits cannot be applied"},
};

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) {
    out.push_back(word);
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

void CheckCgroups(NodeCheckEnv& env, const Config& config, Rows& rows) {
  auto info = oci::ParseCgroupMounts(env.ReadFile("/proc/self/mountinfo").value_or(""));
  if (!info.ok()) {
    Add(rows, "cgroups", CheckStatus::kFail, info.error().message(),
        "no container can be given resource limits: every container fails");
    return;
  }
  std::vector<std::string> available;
  if (info->mode == oci::CgroupMode::kV2) {
    Add(rows, "cgroup mode", CheckStatus::kOk, "v2 (unified) at " + info->unified_mount);
    available = Words(env.ReadFile(info->unified_mount + "/cgroup.controllers").value_or(""));
  } else {
    Add(rows, "cgroup mode", CheckStatus::kWarn,
        std::string(oci::CgroupModeName(info->mode)) + " (v1 controllers)",
        "Kubernetes features that need cgroup v2 (memory QoS, swap, PSI) are unavailable");
    for (const auto& hierarchy : info->v1) {
      available.insert(available.end(), hierarchy.controllers.begin(), hierarchy.controllers.end());
    }
  }
  const bool v2 = info->mode == oci::CgroupMode::kV2;
  for (const auto& c : kControllers) {
    const std::string name = v2 ? c.name : c.v1_name;
    const bool have = Contains(available, name);
    Add(rows, "cgroup controller " + name,
        have ? CheckStatus::kOk : (c.required ? CheckStatus::kFail : CheckStatus::kWarn),
        have ? "enabled" : "not available", c.cost);
  }
  if (v2) {
    Add(rows, "cgroup controller devices", CheckStatus::kOk, "eBPF device filter (cgroup v2)");
  } else {
    const bool have = Contains(available, "devices");
    Add(rows, "cgroup controller devices", have ? CheckStatus::kOk : CheckStatus::kFail,
        have ? "enabled" : "not available",
        "containers' device access cannot be restricted: containers fail");
  }

  const bool systemd_pid1 =
      env.Exists("/run/systemd/system") && env.ReadFile("/proc/1/comm").value_or("") == "systemd\n";
  if (config.cgroup_driver == CgroupDriver::kSystemd) {
    Add(rows, "systemd (cgroup_driver = systemd)",
        systemd_pid1 ? CheckStatus::kOk : CheckStatus::kFail,
        systemd_pid1 ? "PID 1 is systemd" : "PID 1 is not systemd (no /run/systemd/system)",
        "cricketd refuses to start with cgroup_driver = \"systemd\": use cgroupfs");
  } else {
    Add(rows, "systemd (cgroup_driver = cgroupfs)", CheckStatus::kOk,
        systemd_pid1 ? "PID 1 is systemd; not needed (kubelet's cgroupDriver must be cgroupfs)"
                     : "not needed");
  }
}

}  // namespace cricket::cri::admin::internal
