#include "oci/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/files.h"

namespace cricket::oci {
namespace {

Result<uint64_t> Mask(const std::vector<std::string>& names, const std::string& field, int last_cap) {
  uint64_t mask = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    // libcap spells them lowercase ("cap_net_raw"); the spec uppercase.
    std::string lower = names[i];
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    cap_value_t value = 0;
    if (lower.rfind("cap_", 0) != 0 || cap_from_name(lower.c_str(), &value) != 0) {
      return Error(Code::kInvalidArgument, field + "[" + std::to_string(i) +
                                               "]: unknown capability \"" + names[i] + "\"");
    }
    if (value > last_cap || value >= 64) {
      continue;
    }
    mask |= uint64_t{1} << value;
  }
  return mask;
}

}  // namespace

Result<CapabilityMasks> ResolveCapabilities(const Capabilities& caps, int last_cap) {
  CapabilityMasks m;
  CR_ASSIGN_OR_RETURN(m.bounding, Mask(caps.bounding, "process.capabilities.bounding", last_cap));
  CR_ASSIGN_OR_RETURN(m.effective, Mask(caps.effective, "process.capabilities.effective", last_cap));
  CR_ASSIGN_OR_RETURN(m.permitted, Mask(caps.permitted, "process.capabilities.permitted", last_cap));
  CR_ASSIGN_OR_RETURN(m.inheritable,
                      Mask(caps.inheritable, "process.capabilities.inheritable", last_cap));
  CR_ASSIGN_OR_RETURN(m.ambient, Mask(caps.ambient, "process.capabilities.ambient", last_cap));
  return m;
}

int LastCap() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  if (text.ok()) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec == std::errc() && ptr != text->data()) {
      return value;
    }
  }
  return CAP_LAST_CAP;
}

}  // namespace cricket::oci
