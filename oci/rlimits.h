#pragma once

#include <string_view>

namespace cricket::oci {

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 for an unknown name.
int RlimitResource(std::string_view name);

}  // namespace cricket::oci
