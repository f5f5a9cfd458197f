#pragma once

// The AppArmor profile of a container (OCI process.apparmorProfile) from its CRI security
// context: `apparmor` (RuntimeDefault, Unconfined, Localhost) or the deprecated
// `apparmor_profile` string ("runtime/default", "unconfined", "localhost/<name>").
// RuntimeDefault — also what an unset field means, as with containerd — is Cricket's own
// "cricket-default" (cri/apparmor_default_profile.h), loaded on first use when the node lacks it;
// if it cannot be loaded the container is refused, never run unconfined in its place. On a node
// without AppArmor every profile is skipped (oci/child_plan.cc), as containerd does.

#include <functional>
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

// Loads cricket-default into the kernel; called only on an AppArmor node that lacks it.
using DefaultProfileLoader = std::function<Result<void>()>;

// The profile name, or "" for unconfined. kInvalidArgument for a malformed setting;
// kFailedPrecondition for a Localhost profile that is not loaded on an AppArmor node, and for
// RuntimeDefault when cricket-default is missing and `load_default` fails (naming its reason).
Result<std::string> AppArmorProfileFor(const ::runtime::v1::LinuxContainerSecurityContext& sc,
                                       const AppArmorHost& host,
                                       const DefaultProfileLoader& load_default);

}  // namespace cricket::cri
