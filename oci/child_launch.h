#pragma once

// LaunchChild: clone a ChildPlan's process, let the caller prepare it (uid maps, cgroup) while
// it waits, release it and read its first report. Shared by Runtime::Create and Runtime::Exec.

#include <sys/types.h>

#include <functional>

#include "common/result.h"
#include "oci/child_plan.h"
#include "oci/stdio_options.h"

namespace cricket::oci {

// Copies the caller's stdio choice into the plan.
void ApplyStdio(const StdioOptions& stdio, ChildPlan& plan);

// `prepare` runs in the parent after clone, before the child goes on when the child waits
// for it (plan.wait_for_parent; it must then do nothing the child relies on otherwise).
// Success means the child reported kReady (create) or closed the report pipe by execve
// (plan.start_now). On failure
// the child has been killed and reaped, and the error is the child's own when it reported one.
// The caller owns the returned pid (a child of this process).
// When the plan pauses for the runtime's hooks (plan.pause_for_runtime_hooks), `runtime_hooks`
// runs at that point, before pivot_root; its failure fails the launch.
Result<pid_t> LaunchChild(ChildPlan& plan, const std::function<Result<void>(pid_t)>& prepare,
                          const std::function<Result<void>()>& runtime_hooks = nullptr);

}  // namespace cricket::oci
