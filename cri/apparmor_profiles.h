#pragma once

// AppArmorProfiles: where CreateContainer gets a container's AppArmor profile. It reads the
// node's state from securityfs on every call (an operator may load or remove profiles at any
// time) and, the first time a RuntimeDefault container finds cricket-default missing, loads it
// with apparmor_parser. Nothing runs at cricketd's start-up, so a node that never asks for
// RuntimeDefault pays nothing. Thread-safe: loads are serialised, so concurrent creates run the
// parser once.

#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "cri/container_apparmor.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// Loads (or replaces) the profile `text` with `parser -Kr`, the text on stdin: no policy cache
// is read or written, so the kernel gets exactly this text. kNotFound when the parser cannot be
// run, kFailedPrecondition (with its stderr) when it refuses the text, kDeadlineExceeded.
Result<void> LoadAppArmorProfile(const std::string& parser, std::string_view text);

class AppArmorProfiles {
 public:
  // `parser`: the absolute path of apparmor_parser (config key apparmor_parser). The securityfs
  // paths are those of ReadAppArmorHost.
  explicit AppArmorProfiles(std::string parser,
                            std::string module_param = "/sys/module/apparmor/parameters/enabled",
                            std::string profiles = "/sys/kernel/security/apparmor/profiles")
      : parser_(std::move(parser)),
        module_param_(std::move(module_param)),
        profiles_(std::move(profiles)) {}

  // See AppArmorProfileFor.
  Result<std::string> ProfileFor(const ::runtime::v1::LinuxContainerSecurityContext& sc);

 private:
  Result<void> LoadDefault();

  const std::string parser_;
  const std::string module_param_;
  const std::string profiles_;
  std::mutex load_mu_;  // held while cricket-default is checked and loaded
};

}  // namespace cricket::cri
