#include "cri/admin/node_check.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "cri/admin/node_check_internal.h"

namespace cricket::cri::admin {

namespace internal {

std::pair<int, int> KernelVersion(const std::string& release) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) {
    return {0, 0};
  }
  return {major, minor};
}

namespace {

bool AtLeast(std::pair<int, int> have, int major, int minor) {
  return have.first > major || (have.first == major && have.second >= minor);
}

std::string ErrnoName(int err) { return fmt::format("errno {} ({})", err, std::strerror(err)); }

void CheckNamespaces(NodeCheckEnv& env, Rows& rows) {
  for (const char* ns : {"mnt", "uts", "ipc", "pid", "net", "cgroup"}) {
    const bool have = env.Exists(std::string("/proc/self/ns/") + ns);
    const bool required = std::strcmp(ns, "cgroup") != 0;
    Add(rows, std::string("namespace ") + ns,
        have ? CheckStatus::kOk : (required ? CheckStatus::kFail : CheckStatus::kWarn),
        have ? "available" : "missing (no /proc/self/ns/" + std::string(ns) + ")",
        required ? "no pod can be isolated: every pod fails"
                 : "containers see the node's cgroup paths (no private cgroup namespace)");
  }
  const std::string max = env.ReadFile("/proc/sys/user/max_user_namespaces").value_or("");
  int err = env.Exists("/proc/self/ns/user") ? env.Probe(SyscallProbe::kUserNamespace) : ENOSYS;
  std::string detail = err == 0 ? "available" : "unshare(CLONE_NEWUSER): " + ErrnoName(err);
  if (max.starts_with("0")) {
    err = EPERM;
    detail = "user.max_user_namespaces is 0";
  }
  Add(rows, "namespace user", err == 0 ? CheckStatus::kOk : CheckStatus::kWarn, detail,
      "pods asking for a user namespace (hostUsers: false / userns_options) fail");
}

void CheckOverlay(NodeCheckEnv& env, const std::string& release, Rows& rows) {
  const std::string filesystems = env.ReadFile("/proc/filesystems").value_or("");
  if (filesystems.find("\toverlay\n") != std::string::npos) {
    Add(rows, "overlayfs", CheckStatus::kOk, "in /proc/filesystems");
    return;
  }
  const std::string deps = env.ReadFile("/lib/modules/" + release + "/modules.dep").value_or("");
  if (deps.find("/overlay.ko") != std::string::npos) {
    Add(rows, "overlayfs", CheckStatus::kOk, "module overlay (loaded on first mount)");
    return;
  }
  Add(rows, "overlayfs", CheckStatus::kFail, "not in /proc/filesystems, no module",
      "no image can be mounted as a container's root: every container fails");
}

// One syscall probe: OK, `missing` when ENOSYS, WARN with the errno otherwise (a seccomp filter
// or LSM around cricketctl may refuse what the kernel has).
void CheckSyscall(NodeCheckEnv& env, SyscallProbe probe, const std::string& name,
                  const std::string& since, CheckStatus missing, const std::string& cost,
                  Rows& rows) {
  const int err = env.Probe(probe);
  if (err == 0) {
    Add(rows, name, CheckStatus::kOk, "available");
  } else if (err == ENOSYS) {
    Add(rows, name, missing, "missing (ENOSYS; needs Linux " + since + ")", cost);
  } else {
    Add(rows, name, CheckStatus::kWarn, "refused: " + ErrnoName(err), cost);
  }
}

}  // namespace

void CheckKernel(NodeCheckEnv& env, Rows& rows) {
  const std::string release = env.KernelRelease();
  const auto version = KernelVersion(release);
  if (AtLeast(version, 5, 12)) {
    Add(rows, "kernel", CheckStatus::kOk, release);
  } else if (AtLeast(version, 5, 6)) {
    Add(rows, "kernel", CheckStatus::kWarn, release + " (older than 5.12)",
        "no idmapped mounts: pods with user namespaces fail");
  } else {
    Add(rows, "kernel", CheckStatus::kFail, release + " (older than 5.6)",
        "no openat2: container paths cannot be resolved safely, containers fail");
  }
  CheckNamespaces(env, rows);
  CheckOverlay(env, release, rows);
  CheckSyscall(env, SyscallProbe::kOpenat2, "openat2", "5.6", CheckStatus::kFail,
               "container paths cannot be resolved inside their root: containers fail", rows);
  CheckSyscall(env, SyscallProbe::kCloseRange, "close_range", "5.9", CheckStatus::kWarn,
               "the container init closes inherited fds one by one (slower start)", rows);
  CheckSyscall(env, SyscallProbe::kMountSetattr, "idmapped mounts", "5.12", CheckStatus::kWarn,
               "pods with user namespaces cannot idmap their volumes and layers: they fail", rows);
  const bool status_has =
      env.ReadFile("/proc/self/status").value_or("").find("\nSeccomp:") != std::string::npos;
  const int err = env.Probe(SyscallProbe::kSeccompFilter);
  Add(rows, "seccomp", status_has && err == 0 ? CheckStatus::kOk : CheckStatus::kFail,
      !status_has ? "kernel without CONFIG_SECCOMP"
                  : (err == 0 ? "filters available" : "filters: " + ErrnoName(err)),
      "seccomp profiles (RuntimeDefault, Localhost) cannot be applied: such containers fail");
}

void CheckAppArmor(NodeCheckEnv& env, const Config& config, Rows& rows) {
  const bool on =
      env.ReadFile("/sys/module/apparmor/parameters/enabled").value_or("").starts_with("Y");
  if (!on) {
    Add(rows, "apparmor", CheckStatus::kWarn, "off (the kernel does not run AppArmor)",
        "containers run without AppArmor confinement (RuntimeDefault and Localhost are skipped)");
    return;
  }
  const std::string profiles = env.ReadFile("/sys/kernel/security/apparmor/profiles").value_or("");
  if (profiles.starts_with("cricket-default ") ||
      profiles.find("\ncricket-default ") != std::string::npos) {
    Add(rows, "apparmor", CheckStatus::kOk, "on; cricket-default loaded");
  } else if (env.IsExecutable(config.apparmor_parser)) {
    Add(rows, "apparmor", CheckStatus::kOk,
        "on; cricket-default is loaded on first use with " + config.apparmor_parser);
  } else {
    Add(rows, "apparmor", CheckStatus::kFail,
        "on; cricket-default not loaded and " + config.apparmor_parser + " missing",
        "RuntimeDefault containers are refused: install apparmor or set apparmor_parser");
  }
}

}  // namespace internal

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "OK";
    case CheckStatus::kWarn:
      return "WARN";
    case CheckStatus::kFail:
      return "FAIL";
  }
  return "?";
}

std::vector<CheckRow> CheckNode(NodeCheckEnv& env, const Config& config) {
  internal::Rows rows;
  internal::CheckKernel(env, rows);
  internal::CheckCgroups(env, config, rows);
  internal::CheckAppArmor(env, config, rows);
  internal::CheckNetwork(env, config, rows);
  internal::CheckTools(env, config, rows);
  return rows;
}

std::string FormatCheckTable(const std::vector<CheckRow>& rows) {
  size_t width = 5;
  for (const auto& row : rows) {
    width = std::max(width, row.name.size());
  }
  std::string out = fmt::format("{:<{}}  {:<6}  {}\n", "CHECK", width, "RESULT", "DETAIL");
  int counts[3] = {0, 0, 0};
  for (const auto& row : rows) {
    ++counts[static_cast<int>(row.status)];
    out += fmt::format("{:<{}}  {:<6}  {}\n", row.name, width, CheckStatusName(row.status),
                       row.detail);
    if (!row.cost.empty()) {
      out += fmt::format("{:<{}}  {:<6}  -> {}\n", "", width, "", row.cost);
    }
  }
  out += fmt::format("{} OK, {} WARN, {} FAIL\n", counts[0], counts[1], counts[2]);
  return out;
}

int CheckExitCode(const std::vector<CheckRow>& rows) {
  for (const auto& row : rows) {
    if (row.status == CheckStatus::kFail) {
      return 1;
    }
  }
  return 0;
}

}  // namespace cricket::cri::admin
