#pragma once

// RunForked: runs a runtime operation in a child forked for it, and returns its result.
//
// Why: creating a container or an exec'd process runs most of oci/ (spec parsing, mounts,
// cgroups, seccomp, capabilities), ~0.8 MiB of code the shim needs for moments. Run in the shim
// itself, those pages would stay in its RSS for the container's whole life (issue #5: <= 2 MiB
// per idle shim); run in a child, they go with it. The processes the operation starts (the
// init, an exec'd process) are reparented to the shim, a child subreaper, when the child exits.

#include <sys/types.h>

#include <functional>

#include "common/result.h"

namespace cricket::shim {

// `operation` returns the pid of the process it started. Its error, if any, comes back with its
// code and message. kInternal when the child dies without an answer.
Result<pid_t> RunForked(const std::function<Result<pid_t>()>& operation);

}  // namespace cricket::shim
