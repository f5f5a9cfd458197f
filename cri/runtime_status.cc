// Version, Status and RuntimeConfig: what kubelet asks before anything else.

#include <grpcpp/grpcpp.h>
#include <seccomp.h>
#include <spdlog/version.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "common/version.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

// The CRI API version this runtime speaks, as kubelet's own "0.1.0".
constexpr const char* kKubeletApiVersion = "0.1.0";
constexpr const char* kRuntimeName = "cricket";
constexpr const char* kRuntimeApiVersion = "v1";

void AddCondition(v1::RuntimeStatus& status, const char* type, const Result<void>& ready,
                  const char* reason_when_not) {
  v1::RuntimeCondition* condition = status.add_conditions();
  condition->set_type(type);
  condition->set_status(ready.ok());
  if (!ready.ok()) {
    condition->set_reason(reason_when_not);
    condition->set_message(ready.error().message());
  }
}

nlohmann::json LibraryVersions() {
  const scmp_version* seccomp = seccomp_version();
  return {
      {"cricket", kVersion},
      {"grpc", grpc::Version()},
      {"protobuf", google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)},
      {"sqlite", sqlite3_libversion()},
      {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"libseccomp", fmt::format("{}.{}.{}", seccomp->major, seccomp->minor, seccomp->micro)},
  };
}

}  // namespace

Result<void> CriService::Version(const v1::VersionRequest& /*req*/, v1::VersionResponse& resp) {
  resp.set_version(kKubeletApiVersion);
  resp.set_runtime_name(kRuntimeName);
  resp.set_runtime_version(kVersion);
  resp.set_runtime_api_version(kRuntimeApiVersion);
  return Ok();
}

Result<void> CriService::RuntimeReady() {
  CR_RETURN_IF_ERROR(deps_.store->Check());
  if (!deps_.cgroups.ok()) {
    return deps_.cgroups.error().Wrap("detect cgroups");
  }
  return Ok();
}

Result<void> CriService::NetworkReady() {
  if (!deps_.network.ok()) {
    return deps_.network.error();
  }
  return (*deps_.network)->Ready();
}

Result<void> CriService::Status(const v1::StatusRequest& req, v1::StatusResponse& resp) {
  v1::RuntimeStatus& status = *resp.mutable_status();
  AddCondition(status, "RuntimeReady", RuntimeReady(), "RuntimeNotReady");
  AddCondition(status, "NetworkReady", NetworkReady(), "NetworkPluginNotReady");

  // CRI: advertise a feature only where it works; critest does not test what is not advertised.
  v1::RuntimeHandler* handler = resp.add_runtime_handlers();
  handler->set_name("");
  handler->mutable_features()->set_recursive_read_only_mounts(true);
  handler->mutable_features()->set_user_namespaces(true);
  // Configured handlers: an external runtime's support is not ours to promise.
  for (const auto& [name, runtime] : deps_.config->runtimes) {
    v1::RuntimeHandler* configured = resp.add_runtime_handlers();
    configured->set_name(name);
    configured->mutable_features()->set_recursive_read_only_mounts(runtime.path.empty());
    configured->mutable_features()->set_user_namespaces(runtime.path.empty());
  }
  resp.mutable_features()->set_supplemental_groups_policy(true);

  if (req.verbose()) {
    nlohmann::json config = {
        {"root", deps_.config->root},
        {"state", deps_.config->state},
        // critest reads stateDir to find a filesystem to probe for idmapped mounts (the
        // container rootfs lives below it).
        {"stateDir", deps_.config->state},
        {"listen", deps_.config->socket_path()},
        {"cgroupDriver", CgroupDriverName(deps_.config->cgroup_driver)},
        {"network",
         {{"backend", deps_.network.ok() ? (*deps_.network)->backend_name() : "unavailable"},
          {"bridge", deps_.config->network.bridge},
          {"subnet", deps_.config->network.subnet},
          // kubelet's (UpdateRuntimeConfig); the bridge's range unless subnet is set explicitly.
          {"podCidr", deps_.network.ok() ? (*deps_.network)->pod_cidr() : ""},
          {"mtu", deps_.config->network.mtu},
          {"cniConfDir", deps_.config->network.cni_conf_dir},
          {"cniBinDirs", deps_.config->network.cni_bin_dirs}}},
    };
    nlohmann::json cgroup = {{"driver", CgroupDriverName(deps_.config->cgroup_driver)}};
    if (deps_.cgroups.ok()) {
      cgroup["version"] = oci::CgroupModeName(deps_.cgroups->mode);
      cgroup["unifiedMount"] = deps_.cgroups->unified_mount;
      nlohmann::json v1_mounts = nlohmann::json::object();
      for (const auto& hierarchy : deps_.cgroups->v1) {
        v1_mounts[hierarchy.mount_point] = hierarchy.controllers;
      }
      cgroup["v1"] = v1_mounts;
    } else {
      cgroup["error"] = deps_.cgroups.error().message();
    }
    auto& info = *resp.mutable_info();
    info["config"] = config.dump();
    info["cgroup"] = cgroup.dump();
    info["versions"] = LibraryVersions().dump();
  }
  return Ok();
}

Result<void> CriService::RuntimeConfig(const v1::RuntimeConfigRequest& /*req*/,
                                       v1::RuntimeConfigResponse& resp) {
  resp.mutable_linux()->set_cgroup_driver(deps_.config->cgroup_driver == CgroupDriver::kSystemd
                                              ? v1::CgroupDriver::SYSTEMD
                                              : v1::CgroupDriver::CGROUPFS);
  return Ok();
}

}  // namespace cricket::cri
