#include "network/cni_network.h"

#include <unistd.h>

#include <filesystem>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "common/subprocess.h"
#include "network/host_ports.h"
#include "network/localnet_guard.h"
#include "network/names.h"

namespace cricket::network {
namespace {

constexpr const char* kIfName = "eth0";

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? "" : sep;
    out += p;
  }
  return out;
}

// CHECK exists from CNI 0.4.0 on.
bool SupportsCheck(const std::string& version) {
  return !(version.starts_with("0.1") || version.starts_with("0.2") || version.starts_with("0.3"));
}

nlohmann::json PortMappingsJson(const std::vector<PortMapping>& mappings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : mappings) {
    nlohmann::json entry = {{"hostPort", m.host_port},
                            {"containerPort", m.container_port},
                            {"protocol", std::string(ProtocolName(m.protocol))}};
    if (!m.host_ip.empty()) {
      entry["hostIP"] = m.host_ip;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

Result<PodNetworkStatus> ParseCniResult(const nlohmann::json& result) {
  PodNetworkStatus status;
  auto ips = result.find("ips");
  if (ips == result.end() || !ips->is_array()) {
    return Error(Code::kInternal, "CNI result has no ips");
  }
  for (const auto& ip : *ips) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) {
      continue;
    }
    std::string address = ip["address"].get<std::string>();
    address = address.substr(0, address.find('/'));
    // IPv4 first: CRI's PodSandboxStatus.network.ip is the primary address.
    if (address.find(':') == std::string::npos) {
      status.ips.insert(status.ips.begin(), address);
    } else {
      status.ips.push_back(address);
    }
    if (status.gateway.empty() && ip.contains("gateway") && ip["gateway"].is_string()) {
      status.gateway = ip["gateway"].get<std::string>();
    }
  }
  if (status.ips.empty()) {
    return Error(Code::kInternal, "CNI result has no addresses");
  }
  return status;
}

Result<std::unique_ptr<CniNetwork>> CniNetwork::Create(CniOptions options) {
  if (options.cache_dir.empty()) {
    return Error(Code::kInvalidArgument, "CNI network needs a cache dir");
  }
  CR_RETURN_IF_ERROR(MakeDirs(options.cache_dir, 0700));
  CR_ASSIGN_OR_RETURN(ClaimDir ports, ClaimDir::Open(options.cache_dir + "/hostports"));
  auto iptables = Iptables::Find();
  return std::unique_ptr<CniNetwork>(
      new CniNetwork(std::move(options), std::move(ports),
                     iptables.ok() ? std::optional<Iptables>(*iptables) : std::nullopt));
}

Result<void> CniNetwork::EnsureGuard() {
  std::lock_guard lock(mu_);
  if (guarded_ || !iptables_) {
    return Ok();
  }
  if (auto guarded = EnsureLocalnetGuard(*iptables_, kAllButLoopback); !guarded.ok()) {
    return guarded.error().Wrap("guard the node's loopback from pods");
  }
  guarded_ = true;
  return Ok();
}

std::string CniNetwork::CachePath(const std::string& sandbox_id) const {
  return options_.cache_dir + "/" + ShortHash(sandbox_id, 16) + ".json";
}

Result<std::string> CniNetwork::FindPlugin(const std::string& type) const {
  for (const auto& dir : options_.bin_dirs) {
    std::string path = dir + "/" + type;
    if (::access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return Error(Code::kFailedPrecondition,
               "CNI plugin \"" + type + "\" not found in " + Join(options_.bin_dirs, ":"));
}

Result<void> CniNetwork::Ready() {
  CR_ASSIGN_OR_RETURN(CniNetworkList list, LoadCniConfigDir(options_.conf_dir));
  for (const auto& plugin : list.plugins) {
    CR_RETURN_IF_ERROR(FindPlugin(plugin.type));
  }
  return Ok();
}

Result<nlohmann::json> CniNetwork::Invoke(const std::string& command, const CniNetworkList& list,
                                          const CniPlugin& plugin, const PodNetworkConfig& config,
                                          const nlohmann::json* prev_result) {
  CR_ASSIGN_OR_RETURN(std::string binary, FindPlugin(plugin.type));
  nlohmann::json input = plugin.conf;
  input["name"] = list.name;
  input["cniVersion"] = list.cni_version;
  if (prev_result != nullptr) {
    input["prevResult"] = *prev_result;
  }
  if (plugin.wants_port_mappings && !config.port_mappings.empty()) {
    input["runtimeConfig"]["portMappings"] = PortMappingsJson(config.port_mappings);
  }
  SubprocessOptions options;
  options.stdin_data = input.dump();
  options.timeout = options_.plugin_timeout;
  options.env = std::vector<std::string>{
      "CNI_COMMAND=" + command,
      "CNI_CONTAINERID=" + config.sandbox_id,
      "CNI_NETNS=" + config.netns_path,
      std::string("CNI_IFNAME=") + kIfName,
      "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=" + config.pod_namespace +
          ";K8S_POD_NAME=" + config.pod_name + ";K8S_POD_INFRA_CONTAINER_ID=" + config.sandbox_id +
          ";K8S_POD_UID=" + config.pod_uid,
      "CNI_PATH=" + Join(options_.bin_dirs, ":"),
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  const std::string what = "CNI plugin " + plugin.type + " " + command;
  CR_ASSIGN_OR_RETURN(SubprocessResult run, RunSubprocess({binary}, options));
  nlohmann::json out = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (run.exit_code != 0) {
    std::string message = what + " failed";
    if (!out.is_discarded() && out.is_object()) {
      message += ": " + out.value("msg", std::string("no message"));
      if (out.contains("details") && out["details"].is_string() &&
          !out["details"].get<std::string>().empty()) {
        message += " (" + out["details"].get<std::string>() + ")";
      }
    } else if (!run.err.empty()) {
      message += ": " + run.err;
    } else {
      message += " with exit code " + std::to_string(run.exit_code);
    }
    return Error(Code::kUnavailable, message);
  }
  if (command != "ADD") {
    return nlohmann::json();
  }
  if (out.is_discarded() || !out.is_object()) {
    return Error(Code::kInternal, what + " printed no JSON result");
  }
  return out;
}

Result<void> CniNetwork::DeleteChain(const CniNetworkList& list, const PodNetworkConfig& config,
                                     const nlohmann::json* prev_result, size_t added) {
  Result<void> first_error = Ok();
  for (size_t i = list.plugins.size(); i-- > 0;) {
    CR_FAILPOINT(kCniDelBeforePlugin);
    auto deleted = Invoke("DEL", list, list.plugins[i], config, prev_result);
    if (!deleted.ok() && i >= added) {
      // Its ADD failed or never ran: a DEL that fails too (its configuration is bad, say) must
      // not keep the pod's record, and its next teardown, failing forever.
      log::Warn({.pod = config.sandbox_id}, "CNI plugin {} DEL after a failed ADD: {}",
                list.plugins[i].type, deleted.error().message());
    } else if (!deleted.ok() && first_error.ok()) {
      first_error = deleted.error();
    }
    CR_FAILPOINT(kCniDelAfterPlugin);
  }
  return first_error;
}

Result<PodNetworkStatus> CniNetwork::Setup(const PodNetworkConfig& config) {
  if (config.sandbox_id.empty() || config.netns_path.empty()) {
    return Error(Code::kInvalidArgument, "pod network setup needs a sandbox id and a netns path");
  }
  CR_ASSIGN_OR_RETURN(CniNetworkList list, LoadCniConfigDir(options_.conf_dir));
  for (const auto& plugin : list.plugins) {
    CR_RETURN_IF_ERROR(FindPlugin(plugin.type));
  }
  CR_RETURN_IF_ERROR(EnsureGuard());
  CR_RETURN_IF_ERROR(ClaimHostPorts(host_ports_, config.sandbox_id, config.port_mappings));
  Cleanup release_ports([&] { (void)ReleaseHostPorts(config.sandbox_id); });
  // The record goes down before the first ADD, without a result: a crash part-way through the
  // chain leaves it for Teardown and Reconcile, whose DEL (without prevResult, which plugins
  // accept) undoes what the plugins did. Without it, the leases and rules the plugins made
  // before the crash would belong to no one.
  const std::string cache_path = CachePath(config.sandbox_id);
  nlohmann::json cache = {
      {"sandboxId", config.sandbox_id},
      {"netns", config.netns_path},
      {"podName", config.pod_name},
      {"podNamespace", config.pod_namespace},
      {"podUid", config.pod_uid},
      {"source", list.source},
      {"config", nlohmann::json::parse(ReadFile(list.source).value_or("{}"), nullptr, false)},
      {"portMappings", PortMappingsJson(config.port_mappings)},
      {"result", nullptr}};
  CR_RETURN_IF_ERROR(WriteFileAtomic(cache_path, cache.dump(), 0600));
  nlohmann::json result;
  size_t added = 0;  // plugins whose ADD succeeded: their DEL must succeed before the record goes
  // A failure part-way undoes the whole chain: DEL tolerates plugins that never ran.
  Cleanup undo([&] {
    if (DeleteChain(list, config, result.is_null() ? nullptr : &result, added).ok()) {
      ::unlink(cache_path.c_str());
    }
  });
  for (const auto& plugin : list.plugins) {
    CR_FAILPOINT(kCniAddBeforePlugin);
    CR_ASSIGN_OR_RETURN(result,
                        Invoke("ADD", list, plugin, config, result.is_null() ? nullptr : &result));
    ++added;
    CR_FAILPOINT(kCniAddAfterPlugin);
  }
  CR_ASSIGN_OR_RETURN(PodNetworkStatus status, ParseCniResult(result));
  CR_FAILPOINT(kCniAddBeforeRecord);
  cache["result"] = result;
  CR_RETURN_IF_ERROR(WriteFileAtomic(cache_path, cache.dump(), 0600));
  CR_FAILPOINT(kCniAddAfterRecord);
  undo.Dismiss();
  release_ports.Dismiss();
  return status;
}

Result<void> CniNetwork::Teardown(const PodNetworkConfig& config) {
  // Prefer the configuration and result of the ADD: the directory may have changed since.
  auto cached = ReadFile(CachePath(config.sandbox_id));
  if (!cached.ok()) {
    if (cached.error().code() != Code::kNotFound) {
      return cached.error();
    }
    return ReleaseHostPorts(config.sandbox_id);  // never set up, or already torn down
  }
  nlohmann::json cache = nlohmann::json::parse(*cached, nullptr, false);
  if (cache.is_discarded()) {
    return Error(Code::kDataLoss, "CNI cache " + CachePath(config.sandbox_id) + " is corrupt");
  }
  CR_ASSIGN_OR_RETURN(CniNetworkList list,
                      ParseCniConfig(cache["config"].dump(), cache.value("source", "cache")));
  // DEL sees what ADD saw: the cached port mappings and netns unless the caller knows better.
  PodNetworkConfig effective = config;
  if (effective.netns_path.empty()) {
    effective.netns_path = cache.value("netns", "");
  }
  if (effective.port_mappings.empty() && cache.contains("portMappings")) {
    for (const auto& m : cache["portMappings"]) {
      std::string proto = m.value("protocol", "tcp");
      effective.port_mappings.push_back({proto == "udp"    ? Protocol::kUdp
                                         : proto == "sctp" ? Protocol::kSctp
                                                           : Protocol::kTcp,
                                         m.value("containerPort", 0), m.value("hostPort", 0),
                                         m.value("hostIP", "")});
    }
  }
  nlohmann::json result = cache["result"];
  CR_RETURN_IF_ERROR(DeleteChain(list, effective, result.is_object() ? &result : nullptr));
  if (::unlink(CachePath(config.sandbox_id).c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove CNI cache " + CachePath(config.sandbox_id));
  }
  CR_FAILPOINT(kCniDelAfterRecord);
  return ReleaseHostPorts(config.sandbox_id);
}

Result<void> CniNetwork::ReleaseHostPorts(const std::string& sandbox_id) {
  CR_ASSIGN_OR_RETURN(LockFile lock, host_ports_.Lock());
  return host_ports_.ReleaseOwner(sandbox_id);
}

Result<void> CniNetwork::Check(const PodNetworkConfig& config) {
  CR_ASSIGN_OR_RETURN(std::string cached, ReadFile(CachePath(config.sandbox_id)));
  nlohmann::json cache = nlohmann::json::parse(cached, nullptr, false);
  if (cache.is_discarded()) {
    return Error(Code::kDataLoss, "CNI cache " + CachePath(config.sandbox_id) + " is corrupt");
  }
  CR_ASSIGN_OR_RETURN(CniNetworkList list, ParseCniConfig(cache["config"].dump(), "cache"));
  if (list.disable_check || !SupportsCheck(list.cni_version)) {
    return Ok();
  }
  nlohmann::json result = cache["result"];
  for (const auto& plugin : list.plugins) {
    CR_RETURN_IF_ERROR(Invoke("CHECK", list, plugin, config, &result));
  }
  return Ok();
}

Result<void> CniNetwork::Reconcile(const std::set<std::string>& live_sandbox_ids) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.cache_dir, ec)) {
    if (!entry.is_regular_file()) {
      continue;  // the hostports claim dir
    }
    auto text = ReadFile(entry.path().string());
    if (!text.ok()) {
      continue;
    }
    nlohmann::json cache = nlohmann::json::parse(*text, nullptr, false);
    if (cache.is_discarded() || !cache.contains("sandboxId")) {
      continue;
    }
    std::string id = cache["sandboxId"].get<std::string>();
    if (live_sandbox_ids.contains(id)) {
      continue;
    }
    PodNetworkConfig config;
    config.sandbox_id = id;
    config.netns_path = cache.value("netns", "");
    config.pod_name = cache.value("podName", "");
    config.pod_namespace = cache.value("podNamespace", "");
    config.pod_uid = cache.value("podUid", "");
    log::Info({.pod = id}, "tearing down orphaned CNI network");
    CR_RETURN_IF_ERROR(Teardown(config));
  }
  CR_ASSIGN_OR_RETURN(auto claims, host_ports_.List());
  for (const auto& [name, owner] : claims) {
    if (!live_sandbox_ids.contains(owner)) {
      CR_RETURN_IF_ERROR(ReleaseHostPorts(owner));
    }
  }
  return Ok();
}

}  // namespace cricket::network
