#include "cri/container_apparmor.h"

#include <mutex>
#include <sstream>

#include "common/files.h"
#include "common/log.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr const char* kField = "linux.security_context.apparmor";

Result<std::string> RuntimeDefault(const AppArmorHost& host) {
  if (!host.enabled) {
    return std::string();
  }
  for (const char* name : {"cricket-default", "docker-default"}) {
    if (host.loaded.contains(name)) {
      return std::string(name);
    }
  }
  static std::once_flag logged;
  std::call_once(logged, [] {
    log::Warn({}, "AppArmor is on but no runtime-default profile (cricket-default or "
                  "docker-default) is loaded: RuntimeDefault containers run unconfined");
  });
  return std::string();
}

Result<std::string> Localhost(const std::string& name, const AppArmorHost& host) {
  if (name.empty()) {
    return Error(Code::kInvalidArgument, std::string(kField) + ": a Localhost profile needs a name");
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
                                       const AppArmorHost& host) {
  if (sc.has_apparmor()) {
    switch (sc.apparmor().profile_type()) {
      case v1::SecurityProfile::RuntimeDefault:
        return RuntimeDefault(host);
      case v1::SecurityProfile::Unconfined:
        return std::string();
      case v1::SecurityProfile::Localhost:
        return Localhost(sc.apparmor().localhost_ref(), host);
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
    return sc.privileged() ? std::string() : RuntimeDefault(host);
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
