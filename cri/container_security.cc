#include "cri/container_security.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/files.h"
#include "oci/seccomp_profile.h"
#include "oci/spec_default.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// Every capability this process may hand on (its bounding set), as "CAP_..." names. A node can
// withhold some (this project's hosts lack CAP_SYS_RESOURCE): asking for more fails with EPERM,
// so "ALL" and privileged mean all that the node grants, as with containerd.
std::vector<std::string> AllCapabilities() {
  std::vector<std::string> out;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (cap_get_bound(static_cast<cap_value_t>(cap)) != 1) {
      continue;
    }
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    if (name == nullptr) {
      continue;
    }
    std::string upper(name);
    cap_free(name);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    out.push_back(upper);
  }
  return out;
}

// "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name one capability.
Result<std::string> CapabilityName(const std::string& given) {
  std::string upper = given;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (!upper.starts_with("CAP_")) {
    upper = "CAP_" + upper;
  }
  cap_value_t value = 0;
  if (cap_from_name(upper.c_str(), &value) != 0) {
    return Error(Code::kInvalidArgument, "unknown capability \"" + given + "\"");
  }
  return upper;
}

bool IsAll(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper == "ALL";
}

Result<std::vector<std::string>> EffectiveCapabilities(const v1::Capability& caps,
                                                       const std::vector<std::string>& base) {
  std::set<std::string> set(base.begin(), base.end());
  for (const auto& drop : caps.drop_capabilities()) {
    if (IsAll(drop)) {
      set.clear();
      continue;
    }
    CR_ASSIGN_OR_RETURN(std::string name, CapabilityName(drop));
    set.erase(name);
  }
  for (const auto& add : caps.add_capabilities()) {
    if (IsAll(add)) {
      for (const auto& name : AllCapabilities()) {
        set.insert(name);
      }
      continue;
    }
    CR_ASSIGN_OR_RETURN(std::string name, CapabilityName(add));
    static const std::vector<std::string> kGrantable = AllCapabilities();
    if (std::find(kGrantable.begin(), kGrantable.end(), name) == kGrantable.end()) {
      return Error(Code::kFailedPrecondition,
                   "capability " + name + " is not available on this node");
    }
    set.insert(name);
  }
  return std::vector<std::string>(set.begin(), set.end());
}

// The profile a container asked for; nullopt for unconfined.
Result<std::optional<oci::SeccompProfile>> SeccompFor(const v1::LinuxContainerSecurityContext& sc) {
  std::string kind;
  std::string localhost;
  if (sc.has_seccomp()) {
    switch (sc.seccomp().profile_type()) {
      case v1::SecurityProfile::RuntimeDefault: kind = "default"; break;
      case v1::SecurityProfile::Unconfined: kind = "unconfined"; break;
      case v1::SecurityProfile::Localhost:
        kind = "localhost";
        localhost = sc.seccomp().localhost_ref();
        break;
      default:
        return Error(Code::kInvalidArgument, "linux.security_context.seccomp: unknown type");
    }
  } else {
    // The deprecated string form: "", "unconfined", "runtime/default", "docker/default",
    // "localhost/<path>".
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // still sent by older kubelets
    const std::string& path = sc.seccomp_profile_path();
#pragma GCC diagnostic pop
    if (path.empty() || path == "unconfined") {
      kind = "unconfined";
    } else if (path == "runtime/default" || path == "docker/default") {
      kind = "default";
    } else if (path.starts_with("localhost/")) {
      kind = "localhost";
      localhost = path.substr(10);
    } else {
      return Error(Code::kInvalidArgument,
                   "linux.security_context.seccomp_profile_path \"" + path + "\" is not supported");
    }
  }
  if (kind == "unconfined") {
    return std::optional<oci::SeccompProfile>();
  }
  if (kind == "default") {
    return std::optional<oci::SeccompProfile>(oci::RuntimeDefaultProfile());
  }
  if (localhost.empty() || localhost.front() != '/') {
    return Error(Code::kInvalidArgument, "seccomp localhost profile must be an absolute path, got \"" +
                                             localhost + "\"");
  }
  auto text = ReadFile(localhost);
  if (!text.ok()) {
    return text.error().Wrap("seccomp localhost profile");
  }
  CR_ASSIGN_OR_RETURN(oci::SeccompProfile profile, oci::ParseSeccompProfile(*text));
  return std::optional<oci::SeccompProfile>(std::move(profile));
}

}  // namespace

Result<void> ApplySecurityContext(const v1::LinuxContainerSecurityContext& sc, oci::Spec& spec) {
  oci::Process& process = *spec.process;
  process.no_new_privileges = sc.no_new_privs();
  if (sc.privileged()) {
    // Privileged: every capability, no seccomp, nothing masked, /sys writable, all devices.
    std::vector<std::string> all = AllCapabilities();
    process.capabilities = oci::Capabilities{all, all, {}, all, {}};
    spec.linux->seccomp.reset();
    spec.linux->masked_paths.clear();
    spec.linux->readonly_paths.clear();
    for (auto& m : spec.mounts) {
      if (m.destination == "/sys" || m.destination == "/sys/fs/cgroup") {
        std::erase(m.options, "ro");
      }
    }
    if (spec.linux->resources) {
      spec.linux->resources->devices = {oci::DeviceCgroup{true, "a", {}, {}, "rwm"}};
    }
    return Ok();
  }
  CR_ASSIGN_OR_RETURN(std::vector<std::string> caps,
                      EffectiveCapabilities(sc.capabilities(), oci::DefaultCapabilities()));
  std::vector<std::string> ambient;
  for (const auto& add : sc.capabilities().add_ambient_capabilities()) {
    CR_ASSIGN_OR_RETURN(std::string name, CapabilityName(add));
    ambient.push_back(name);
  }
  // Ambient capabilities must also be inheritable (and permitted) for the kernel to keep them.
  process.capabilities = oci::Capabilities{caps, caps, ambient, caps, ambient};
  if (sc.masked_paths_size() > 0) {
    spec.linux->masked_paths.assign(sc.masked_paths().begin(), sc.masked_paths().end());
  }
  if (sc.readonly_paths_size() > 0) {
    spec.linux->readonly_paths.assign(sc.readonly_paths().begin(), sc.readonly_paths().end());
  }
  CR_ASSIGN_OR_RETURN(auto profile, SeccompFor(sc));
  if (profile) {
    spec.linux->seccomp = oci::ResolveProfile(*profile, caps);
  } else {
    spec.linux->seccomp.reset();
  }
  return Ok();
}

}  // namespace cricket::cri
