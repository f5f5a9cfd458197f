// Network rows of `cricketctl check`: iptables and its backend, the kernel modules of the
// built-in bridge network, net.ipv4.ip_forward, and the plugins of the CNI configuration.

#include <set>
#include <string>

#include "cri/admin/node_check_internal.h"
#include "network/cni_config.h"

namespace cricket::cri::admin::internal {

namespace {

// The same places network/iptables.cc looks.
constexpr const char* kIptablesPaths[] = {"/usr/sbin/iptables", "/sbin/iptables",
                                          "/usr/bin/iptables"};

void CheckIptables(NodeCheckEnv& env, Rows& rows) {
  const std::string path = FirstExecutable(env, kIptablesPaths);
  if (path.empty()) {
    Add(rows, "iptables", CheckStatus::kFail, "not installed (/usr/sbin, /sbin, /usr/bin)",
        "no masquerade or hostPort rules: the built-in pod network cannot start");
    return;
  }
  auto run = env.Run({path, "--version"});
  if (!run.ok() || run->exit_code != 0) {
    Add(rows, "iptables", CheckStatus::kFail,
        path + " --version failed" + (run.ok() ? ": " + run->err : ": " + run.error().message()),
        "no masquerade or hostPort rules: the built-in pod network cannot start");
    return;
  }
  // "iptables v1.8.9 (nf_tables)" or "iptables v1.8.9 (legacy)"
  std::string version = run->out.substr(0, run->out.find('\n'));
  std::string backend = "unknown";
  if (auto open = version.find('('); open != std::string::npos) {
    backend = version.substr(open + 1, version.find(')', open) - open - 1);
  }
  Add(rows, "iptables", CheckStatus::kOk, version.substr(0, version.find(' ', 9)) + " at " + path);
  Add(rows, "iptables backend", CheckStatus::kOk, backend + " (kube-proxy must use the same)");
}

// A module built in, loaded, or loadable from /lib/modules.
// kUnknown: not loaded, and the kernel has no module tree to tell (/lib/modules/<release>):
// a kernel built with its drivers in but not listed, as on some VM images.
enum class ModuleState { kLoaded, kLoadable, kMissing, kUnknown };

ModuleState Module(NodeCheckEnv& env, const std::string& release, const std::string& name) {
  const std::string needle = "/" + name + ".ko";
  if (env.Exists("/sys/module/" + name) ||
      env.ReadFile("/lib/modules/" + release + "/modules.builtin").value_or("").find(needle) !=
          std::string::npos) {
    return ModuleState::kLoaded;
  }
  // br_netfilter, once loaded, has its sysctls; it has no /sys/module entry when built in.
  if (name == "br_netfilter" && env.Exists("/proc/sys/net/bridge")) {
    return ModuleState::kLoaded;
  }
  auto deps = env.ReadFile("/lib/modules/" + release + "/modules.dep");
  if (!deps.ok()) {
    return ModuleState::kUnknown;
  }
  return deps->find(needle) != std::string::npos ? ModuleState::kLoadable : ModuleState::kMissing;
}

void CheckModules(NodeCheckEnv& env, const Config& config, Rows& rows) {
  const std::string release = env.KernelRelease();
  // The built-in network needs them; a CNI chain may not.
  const CheckStatus missing =
      config.network.backend == "cni" ? CheckStatus::kWarn : CheckStatus::kFail;
  for (const char* name : {"bridge", "veth"}) {
    switch (Module(env, release, name)) {
      case ModuleState::kLoaded:
        Add(rows, std::string("module ") + name, CheckStatus::kOk, "loaded or built in");
        break;
      case ModuleState::kLoadable:
        Add(rows, std::string("module ") + name, CheckStatus::kOk,
            "available (the kernel loads it when cricketd creates the first one)");
        break;
      case ModuleState::kMissing:
        Add(rows, std::string("module ") + name, missing, "not available",
            "the built-in pod network (bridge + veth pairs) cannot be made: pods get no network");
        break;
      case ModuleState::kUnknown:
        Add(rows, std::string("module ") + name, CheckStatus::kWarn,
            "not loaded; cannot tell if built in (no /lib/modules/" + release + "/modules.dep)",
            "if the kernel lacks it, the built-in pod network cannot be made");
        break;
    }
  }
  const ModuleState br = Module(env, release, "br_netfilter");
  const std::string cost =
      "traffic between pods on one bridge bypasses iptables: Services (kube-proxy) between "
      "pods of this node break (modprobe br_netfilter)";
  if (br != ModuleState::kLoaded) {
    Add(rows, "module br_netfilter", CheckStatus::kWarn,
        br == ModuleState::kLoadable  ? "not loaded (available)"
        : br == ModuleState::kUnknown ? "not loaded (no module tree to tell more)"
                                      : "not available",
        cost);
    return;
  }
  const bool calls =
      env.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables").value_or("").starts_with("1");
  Add(rows, "module br_netfilter", calls ? CheckStatus::kOk : CheckStatus::kWarn,
      calls ? "loaded, bridge-nf-call-iptables = 1" : "loaded, bridge-nf-call-iptables = 0", cost);
}

void CheckCniPlugins(NodeCheckEnv& env, const Config& config, Rows& rows) {
  auto list = network::LoadCniConfigDir(config.network.cni_conf_dir);
  if (!list.ok()) {
    if (config.network.backend == "cni") {
      Add(rows, "cni config", CheckStatus::kFail, list.error().message(),
          "network.backend = \"cni\" without a configuration: pods get no network");
    } else if (list.error().code() != Code::kNotFound) {
      Add(rows, "cni config", CheckStatus::kWarn, list.error().message(),
          "cricketd uses the built-in bridge instead");
    } else {
      Add(rows, "cni config", CheckStatus::kOk,
          "none in " + config.network.cni_conf_dir + " (built-in bridge network)");
    }
    return;
  }
  if (config.network.backend == "bridge") {
    Add(rows, "cni config", CheckStatus::kOk, list->source + " (unused: backend = bridge)");
    return;
  }
  Add(rows, "cni config", CheckStatus::kOk, list->source + " (network " + list->name + ")");
  std::set<std::string> seen;
  for (const auto& plugin : list->plugins) {
    if (!seen.insert(plugin.type).second) {
      continue;
    }
    std::string found;
    for (const auto& dir : config.network.cni_bin_dirs) {
      if (env.IsExecutable(dir + "/" + plugin.type)) {
        found = dir + "/" + plugin.type;
        break;
      }
    }
    Add(rows, "cni plugin " + plugin.type, found.empty() ? CheckStatus::kFail : CheckStatus::kOk,
        found.empty() ? "not found in network.cni_bin_dirs" : found,
        "every pod's network setup fails (" + list->name + " needs it)");
  }
}

}  // namespace

void CheckNetwork(NodeCheckEnv& env, const Config& config, Rows& rows) {
  CheckIptables(env, rows);
  CheckModules(env, config, rows);
  const std::string forward = env.ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("");
  Add(rows, "net.ipv4.ip_forward", forward.starts_with("1") ? CheckStatus::kOk : CheckStatus::kWarn,
      forward.starts_with("1") ? "1" : "0",
      "pods cannot reach beyond the node until cricketd's bridge network turns it on");
  CheckCniPlugins(env, config, rows);
}

}  // namespace cricket::cri::admin::internal
