#include "cri/container_apparmor.h"

#include <sstream>
#include <string_view>

#include "common/files.h"
#include "cri/apparmor_default_profile.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr const char* kField = "linux.security_context.apparmor";

Result<std::string> RuntimeDefault(const AppArmorHost& host, const DefaultProfileLoader& load) {
  const std::string name(kDefaultAppArmorProfile);
  if (!host.enabled) {
    return std::string();  // nothing to confine with (containerd does the same)
  }
  if (host.loaded.contains(name)) {
    return name;
  }
  // Running the container unconfined instead would silently drop a protection the pod asked
  // for; refusing it tells the operator what the node lacks.
  if (auto loaded = load(); !loaded.ok()) {
    return Error(
        Code::kFailedPrecondition,
        "AppArmor profile \"" + name +
            "\" for RuntimeDefault is not loaded and cannot be: " + loaded.error().message());
  }
  return name;
}

Result<std::string> Localhost(const std::string& name, const AppArmorHost& host) {
  if (name.empty()) {
    return Error(Code::kInvalidArgument,
                 std::string(kField) + ": a Localhost profile needs a name");
  }
  if (host.enabled && !host.loaded.contains(name)) {
    return Error(Code::kFailedPrecondition,
                 "AppArmor profile \"" + name + "\" is not loaded on this node");
  }
  return name;
}

}  // namespace

AppArmorHost ReadAppArmorHost(const std::string& module_param, const std::string& profiles) {
  AppArmorHost host;
  host.enabled = ReadFile(module_param).value_or("").starts_with("Y");
  if (!host.enabled) {
    return host;
  }
  // Lines are "<name> (<mode>)".
  std::istringstream lines(ReadFile(profiles).value_or(""));
  for (std::string line; std::getline(lines, line);) {
    size_t mode = line.rfind(" (");
    host.loaded.insert(mode == std::string::npos ? line : line.substr(0, mode));
  }
  return host;
}

Result<std::string> AppArmorProfileFor(const v1::LinuxContainerSecurityContext& sc,
                                       const AppArmorHost& host,
                                       const DefaultProfileLoader& load_default) {
  if (sc.has_apparmor()) {
    switch (sc.apparmor().profile_type()) {
      case v1::SecurityProfile::RuntimeDefault:
        return RuntimeDefault(host, load_default);
      case v1::SecurityProfile::Unconfined:
        return std::string();
      case v1::SecurityProfile::Localhost: {
        // The name alone, but the deprecated field's "localhost/" prefix is accepted too
        // (critest sends it; containerd strips it as well).
        std::string_view ref = sc.apparmor().localhost_ref();
        if (ref.starts_with("localhost/")) {
          ref.remove_prefix(10);
        }
        return Localhost(std::string(ref), host);
      }
      default:
        return Error(Code::kInvalidArgument, std::string(kField) + ": unknown profile type");
    }
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // still sent by older kubelets
  const std::string& profile = sc.apparmor_profile();
#pragma GCC diagnostic pop
  if (profile.empty() || profile == "runtime/default") {
    // Privileged containers are unconfined unless they name a profile (containerd does so).
    return sc.privileged() ? std::string() : RuntimeDefault(host, load_default);
  }
  if (profile == "unconfined") {
    return std::string();
  }
  if (profile.starts_with("localhost/")) {
    return Localhost(profile.substr(10), host);
  }
  return Error(Code::kInvalidArgument,
               "linux.security_context.apparmor_profile \"" + profile + "\" is not supported");
}

}  // namespace cricket::cri
