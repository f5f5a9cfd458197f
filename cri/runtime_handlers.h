#pragma once

// CRI runtime handlers (a Kubernetes RuntimeClass's `handler`) from `[runtimes."<name>"]`:
// "" is Cricket's own runtime, run inside each shim; a configured handler with a `path` runs
// that OCI runtime (runc's command line) from the shim instead. A pod's containers use its
// handler; its infra process, Cricket's own pause in a spec Cricket writes, always runs in
// Cricket's runtime.

#include <memory>
#include <string>

#include "common/result.h"
#include "common/syscalls.h"
#include "cri/config.h"
#include "oci/cgroup_detect.h"
#include "shim/container_runtime.h"

namespace cricket::cri {

struct RuntimeTarget {
  std::string binary;  // empty: Cricket's own, in the shim's process
  std::string root;    // the runtime's state root
};

// kInvalidArgument naming the handler when it is not configured.
Result<RuntimeTarget> RuntimeFor(const Config& config, const std::string& handler);

// The runtime of `handler` for the calls cricketd makes itself (a delete whose shim is gone,
// a resource update): the backend its shims run (shim::NewContainerRuntime), with an external
// runtime's log in `work_dir`. kInvalidArgument as RuntimeFor.
Result<std::unique_ptr<shim::ContainerRuntime>> ContainerRuntimeFor(const Config& config,
                                                                    const std::string& handler,
                                                                    Syscalls& sys,
                                                                    oci::CgroupInfo cgroups,
                                                                    const std::string& work_dir);

}  // namespace cricket::cri
