#include "cri/apparmor_profiles.h"

#include <chrono>

#include "common/log.h"
#include "common/subprocess.h"
#include "cri/apparmor_default_profile.h"

namespace cricket::cri {

Result<void> LoadAppArmorProfile(const std::string& parser, std::string_view text) {
  SubprocessOptions options;
  options.stdin_data = std::string(text);
  options.timeout = std::chrono::seconds(30);
  CR_ASSIGN_OR_RETURN(SubprocessResult run, RunSubprocess({parser, "-Kr"}, options));
  if (run.exit_code != 0) {
    std::string err = run.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    return Error(Code::kFailedPrecondition,
                 parser + " failed (" +
                     (run.signal != 0 ? "signal " + std::to_string(run.signal)
                                      : "exit " + std::to_string(run.exit_code)) +
                     "): " + err);
  }
  return Ok();
}

Result<std::string> AppArmorProfiles::ProfileFor(
    const ::runtime::v1::LinuxContainerSecurityContext& sc) {
  return AppArmorProfileFor(sc, ReadAppArmorHost(module_param_, profiles_),
                            [this] { return LoadDefault(); });
}

Result<void> AppArmorProfiles::LoadDefault() {
  std::lock_guard lock(load_mu_);
  // Another create may have loaded it while this one waited.
  if (ReadAppArmorHost(module_param_, profiles_)
          .loaded.contains(std::string(kDefaultAppArmorProfile))) {
    return Ok();
  }
  CR_RETURN_IF_ERROR(LoadAppArmorProfile(parser_, DefaultAppArmorProfileText()));
  log::Info({}, "loaded the AppArmor profile {} with {}", kDefaultAppArmorProfile, parser_);
  return Ok();
}

}  // namespace cricket::cri
