#pragma once

// CRI runtime handlers (a Kubernetes RuntimeClass's `handler`) from `[runtimes."<name>"]`:
// "" is Cricket's own runtime, run inside each shim; a configured handler with a `path` runs
// that OCI runtime (runc's command line) from the shim instead. A pod's containers use its
// handler; its infra process, Cricket's own pause in a spec Cricket writes, always runs in
// Cricket's runtime.

#include <string>

#include "common/result.h"
#include "cri/config.h"

namespace cricket::cri {

struct RuntimeTarget {
  std::string binary;  // empty: Cricket's own, in the shim's process
  std::string root;    // the runtime's state root
};

// kInvalidArgument naming the handler when it is not configured.
Result<RuntimeTarget> RuntimeFor(const Config& config, const std::string& handler);

}  // namespace cricket::cri
