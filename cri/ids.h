#pragma once

// Object ids: 64 random hex digits, like containerd's and CRI-O's, and lookup by unique prefix
// (crictl accepts truncated ids).

#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::cri {

// 32 random bytes from the kernel as lowercase hex.
std::string NewId();

// The one id in `ids` equal to or starting with `prefix`. kNotFound (naming `kind` and the
// prefix) when none, kInvalidArgument when several match or the prefix is empty.
Result<std::string> ResolveId(const std::vector<std::string>& ids, const std::string& prefix,
                              const std::string& kind);

}  // namespace cricket::cri
