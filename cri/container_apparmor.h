#pragma once

// The AppArmor profile of a container (OCI process.apparmorProfile) from its CRI security
// context: `apparmor` (RuntimeDefault, Unconfined, Localhost) or the deprecated
// `apparmor_profile` string ("runtime/default", "unconfined", "localhost/<name>").
// RuntimeDefault — also what an unset field means, as with containerd — is the node's default
// profile when one is loaded ("cricket-default", else "docker-default"); Cricket does not load
// profiles itself, so a node without either runs such containers unconfined and says so once.
// On a node without AppArmor the runtime skips any profile (oci/child_plan.cc).

#include <set>
#include <string>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

struct AppArmorHost {
  bool enabled = false;
  std::set<std::string> loaded;  // profile names
};

// What the node has, read from `module_param` ("Y" when enabled) and `profiles` of securityfs.
AppArmorHost ReadAppArmorHost(
    const std::string& module_param = "/sys/module/apparmor/parameters/enabled",
    const std::string& profiles = "/sys/kernel/security/apparmor/profiles");

// The profile name, or "" for unconfined. kInvalidArgument for a malformed setting;
// kFailedPrecondition for a Localhost profile that is not loaded on an AppArmor node.
Result<std::string> AppArmorProfileFor(const ::runtime::v1::LinuxContainerSecurityContext& sc,
                                       const AppArmorHost& host);

}  // namespace cricket::cri
