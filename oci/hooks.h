#pragma once

// OCI lifecycle hooks that run in the runtime's namespaces: prestart and createRuntime (after
// the init is ready, before `start`), poststart and poststop. Each gets the container's state
// JSON on stdin and is killed when its timeout passes. createContainer and startContainer run
// inside the container and are not supported yet (kUnimplemented from CheckHooksSupported).

#include <string>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// kUnimplemented naming the field when the spec has hooks Cricket cannot run yet.
Result<void> CheckHooksSupported(const Spec& spec);

// Runs the hooks in order; stops at the first failure: "hooks.createRuntime[0] /bin/x: exited
// with status 1" (kInternal) or "...: timed out after 2 s" (kDeadlineExceeded).
Result<void> RunHooks(const std::vector<Hook>& hooks, const char* field, const std::string& state_json);

}  // namespace cricket::oci
