#pragma once

// Finds a helper executable of Cricket's (cricket-shim, cricket-fetch) beside the running
// executable, as installed, or where the build tree puts it: <dir>/../<build_subdir>/<name>.

#include <string>

#include "common/result.h"

namespace cricket {

// kFailedPrecondition naming where it looked when the helper is in neither place.
Result<std::string> FindHelperBinary(const std::string& name, const std::string& build_subdir);

}  // namespace cricket
