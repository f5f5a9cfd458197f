// PodSandboxStatus and ListPodSandbox: read-only views of the sandbox records.

#include <utility>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "cri/label_selector.h"
#include "cri/service.h"

namespace cricket::cri {
Result<void> CriService::PodSandboxStatus(const v1::PodSandboxStatusRequest& req,
                                          v1::PodSandboxStatusResponse& resp) {
  CR_ASSIGN_OR_RETURN(std::string id, ResolveSandbox(req.pod_sandbox_id()));
  CR_ASSIGN_OR_RETURN(Sandbox pod, LoadSandbox(*deps_.store, id));
  const auto& [record, config, info] = pod;
  v1::PodSandboxStatus& status = *resp.mutable_status();
  status.set_id(id);
  *status.mutable_metadata() = config.metadata();
  status.set_state(record.state == SandboxState::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  status.set_created_at(record.created_at_ns);
  status.set_runtime_handler(info.runtime_handler);
  if (!info.ips.empty() && record.state == SandboxState::kReady) {
    status.mutable_network()->set_ip(info.ips.front());
    for (size_t i = 1; i < info.ips.size(); ++i) {
      status.mutable_network()->add_additional_ips()->set_ip(info.ips[i]);
    }
  }
  *status.mutable_linux()->mutable_namespaces()->mutable_options() =
      config.linux().security_context().namespace_options();
  *status.mutable_labels() = config.labels();
  *status.mutable_annotations() = config.annotations();
  if (req.verbose()) {
    nlohmann::json verbose = {{"netns", info.netns_path},     {"ips", info.ips},
                              {"hostNetwork", info.host_network}, {"infraPid", info.infra_pid},
                              {"stateDir", info.state_dir},   {"cgroupParent", info.cgroup_parent}};
    // CRI's PodSandboxStatus has no field for pod-level resources: the ones in force (from
    // RunPodSandbox or the last UpdatePodSandboxResources) are shown here.
    for (const auto& [key, part] : {std::pair{"overhead", &config.linux().overhead()},
                                    std::pair{"resources", &config.linux().resources()}}) {
      std::string json;
      if (google::protobuf::util::MessageToJsonString(*part, &json).ok()) {
        verbose[key] = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
      }
    }
    if (deps_.volumes != nullptr) {
      nlohmann::json volumes = nlohmann::json::array();
      for (const auto& v : deps_.volumes->AttachedToPod(id)) {
        volumes.push_back({{"name", v.volume},
                           {"path", v.path},
                           {"owner", v.lease.node},
                           {"token", v.lease.token},
                           {"head", v.head},
                           {"stale", v.stale},
                           {"users", v.users.size()}});
      }
      verbose["portableVolumes"] = std::move(volumes);
    }
    (*resp.mutable_info())["info"] = verbose.dump();
  }
  return Ok();
}

Result<void> CriService::ListPodSandbox(const v1::ListPodSandboxRequest& req,
                                        v1::ListPodSandboxResponse& resp) {
  return ListPodSandboxInto(req.filter(),
                            [&]() -> Result<v1::PodSandbox*> { return resp.add_items(); });
}

Result<void> CriService::ListPodSandboxInto(const v1::PodSandboxFilter& filter,
                                            const ItemSlot<v1::PodSandbox>& slot) {
  CR_ASSIGN_OR_RETURN(auto records, deps_.store->ListSandboxes());
  for (const auto& record : records) {
    if (!filter.id().empty() && !record.id.starts_with(filter.id())) {
      continue;
    }
    v1::PodSandboxState state =
        record.state == SandboxState::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
    if (filter.has_state() && filter.state().state() != state) {
      continue;
    }
    auto config = DecodeConfig(record);
    if (!config.ok()) {
      continue;
    }
    if (!LabelsMatch(filter.label_selector(), config->labels())) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(v1::PodSandbox * added, slot());
    v1::PodSandbox& item = *added;
    item.set_id(record.id);
    *item.mutable_metadata() = config->metadata();
    item.set_state(state);
    item.set_created_at(record.created_at_ns);
    if (auto info = DecodeInfo(record); info.ok()) {
      item.set_runtime_handler(info->runtime_handler);
    }
    *item.mutable_labels() = config->labels();
    *item.mutable_annotations() = config->annotations();
  }
  return Ok();
}

}  // namespace cricket::cri
