#pragma once

// OCI lifecycle hooks that run in the runtime's namespaces: prestart and createRuntime (while
// the init waits before pivot_root), poststart and poststop. Each gets the container's state
// JSON on stdin and is killed when its timeout passes. createContainer and startContainer run
// inside the container, started by the init itself (child_hooks.cc).

#include <string>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// Runs the hooks in order; stops at the first failure: "hooks.createRuntime[0] /bin/x: exited
// with status 1" (kInternal) or "...: timed out after 2 s" (kDeadlineExceeded).
Result<void> RunHooks(const std::vector<Hook>& hooks, const char* field, const std::string& state_json);

}  // namespace cricket::oci
