#include "cri/object_info.h"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace cricket::cri {
namespace {

Result<nlohmann::json> Parse(const std::string& text, const char* what) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kDataLoss, std::string("corrupt ") + what + " record");
  }
  return doc;
}

bool IsId(const nlohmann::json& v) {
  return v.is_number_unsigned() && v.get<uint64_t>() <= UINT32_MAX;
}

// Absent in records written before the user was kept; a malformed one counts as absent too,
// since the bundle still holds it and a bad field must not make the container unmanageable.
std::optional<ContainerUser> UserFromJson(const nlohmann::json& d) {
  auto it = d.find("user");
  if (it == d.end() || !it->is_object()) {
    return std::nullopt;
  }
  const nlohmann::json none;
  const nlohmann::json uid = it->value("uid", none);
  const nlohmann::json gid = it->value("gid", none);
  const nlohmann::json groups = it->value("supplementalGroups", none);
  if (!IsId(uid) || !IsId(gid) || !groups.is_array() ||
      !std::all_of(groups.begin(), groups.end(), IsId)) {
    return std::nullopt;
  }
  ContainerUser user{uid.get<uint32_t>(), gid.get<uint32_t>(), {}};
  for (const auto& group : groups) {
    user.supplemental_groups.push_back(group.get<uint32_t>());
  }
  return user;
}

}  // namespace

std::string SandboxInfoToJson(const SandboxInfo& i) {
  return nlohmann::json{{"stateDir", i.state_dir},       {"netns", i.netns_path},
                        {"ips", i.ips},                  {"hostNetwork", i.host_network},
                        {"infraPid", i.infra_pid},       {"infraShimDir", i.infra_shim_dir},
                        {"resolvConf", i.resolv_conf},   {"hosts", i.hosts},
                        {"hostnameFile", i.hostname_file}, {"hostname", i.hostname},
                        {"cgroupParent", i.cgroup_parent}, {"logDirectory", i.log_directory},
                        {"runtimeHandler", i.runtime_handler}}
      .dump();
}

Result<SandboxInfo> SandboxInfoFromJson(const std::string& text) {
  CR_ASSIGN_OR_RETURN(nlohmann::json d, Parse(text, "sandbox"));
  SandboxInfo i;
  i.state_dir = d.value("stateDir", "");
  i.netns_path = d.value("netns", "");
  i.ips = d.value("ips", std::vector<std::string>{});
  i.host_network = d.value("hostNetwork", false);
  i.infra_pid = d.value("infraPid", 0);
  i.infra_shim_dir = d.value("infraShimDir", "");
  i.resolv_conf = d.value("resolvConf", "");
  i.hosts = d.value("hosts", "");
  i.hostname_file = d.value("hostnameFile", "");
  i.hostname = d.value("hostname", "");
  i.cgroup_parent = d.value("cgroupParent", "");
  i.log_directory = d.value("logDirectory", "");
  i.runtime_handler = d.value("runtimeHandler", "");
  return i;
}

std::string ContainerInfoToJson(const ContainerInfo& i) {
  nlohmann::json doc{{"imageId", i.image_id},       {"imageName", i.image_name},
                     {"logPath", i.log_path},       {"bundle", i.bundle},
                     {"shimDir", i.shim_dir},       {"tty", i.tty},
                     {"stopSignal", i.stop_signal}, {"runtimeHandler", i.runtime_handler}};
  if (i.user) {
    doc["user"] = {{"uid", i.user->uid},
                   {"gid", i.user->gid},
                   {"supplementalGroups", i.user->supplemental_groups}};
  }
  return doc.dump();
}

Result<ContainerInfo> ContainerInfoFromJson(const std::string& text) {
  CR_ASSIGN_OR_RETURN(nlohmann::json d, Parse(text, "container"));
  ContainerInfo i;
  i.image_id = d.value("imageId", "");
  i.image_name = d.value("imageName", "");
  i.log_path = d.value("logPath", "");
  i.bundle = d.value("bundle", "");
  i.shim_dir = d.value("shimDir", "");
  i.tty = d.value("tty", false);
  i.stop_signal = d.value("stopSignal", 0);
  i.runtime_handler = d.value("runtimeHandler", "");
  i.user = UserFromJson(d);
  return i;
}

}  // namespace cricket::cri
