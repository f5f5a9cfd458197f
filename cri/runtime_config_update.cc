// UpdateRuntimeConfig: kubelet sends the node's pod CIDR (from Node.spec.podCIDRs, joined with
// ","), at start and whenever it changes. The pod network decides what it changes
// (network/pod_cidr_update.cc): the built-in bridge's range of new pods, or a CNI configuration
// generated from network.cni_conf_template.

#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::UpdateRuntimeConfig(const v1::UpdateRuntimeConfigRequest& req,
                                             v1::UpdateRuntimeConfigResponse& /*resp*/) {
  const std::string& pod_cidr = req.runtime_config().network_config().pod_cidr();
  // CRI: the only field is the pod CIDR; an empty one changes nothing (containerd agrees).
  if (pod_cidr.empty()) {
    return Ok();
  }
  if (!deps_.network.ok()) {
    return Error(Code::kFailedPrecondition,
                 "pod CIDR " + pod_cidr + " not applied: " + deps_.network.error().message());
  }
  auto updated = (*deps_.network)->UpdatePodCidr(pod_cidr);
  if (!updated.ok()) {
    return updated.error().Wrap("runtime_config.network_config.pod_cidr");
  }
  return Ok();
}

}  // namespace cricket::cri
