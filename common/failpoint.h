#pragma once

// Named fail points for the crash-consistency tests (issue #14). Each marks a step of a mutating
// operation where a crash, an error or a full disk must leave state that the normal RPCs and
// start-up reconcile can finish or remove. They are compiled into every build and inert unless
// the environment variable CRICKET_FAILPOINTS (read once by each binary's main) enables some:
//   CRICKET_FAILPOINTS=sandbox_run.after_record=kill,image_pull.after_blob=enospc
// Actions: kill = SIGKILL this process at that point; error = the step fails with INTERNAL;
// enospc = the step fails as a full disk would (RESOURCE_EXHAUSTED, errno ENOSPC).
// The variable is inherited by the processes cricketd starts; a container's cricket-shim reads it
// (launched with --failpoints), a pod's infra shim does not, so the pod outlives a shim row.
// Cost when none is enabled: one relaxed atomic load per point passed.

#include <span>
#include <string_view>

#include "common/result.h"

namespace cricket {

enum class FailPointId : int {
#define CR_FAILPOINT_NAME(id, name) id,
#include "common/failpoint_names.inc"
#undef CR_FAILPOINT_NAME
  kCount,
};

enum class FailAction { kNone, kKill, kError, kEnospc };

struct FailPointInfo {
  FailPointId id;
  std::string_view name;
};

// Every fail point, in the order of common/failpoint_names.inc.
std::span<const FailPointInfo> AllFailPoints();

// Enables the points named in `spec` ("name=action,name=action"; empty disables all).
// kInvalidArgument naming the entry for an unknown name or action: a typo in a test must not
// silently test nothing. Not thread-safe against concurrent FailPoint calls; call it at start-up.
Result<void> ConfigureFailPoints(std::string_view spec);

// ConfigureFailPoints(getenv("CRICKET_FAILPOINTS")); Ok when unset.
Result<void> ConfigureFailPointsFromEnv();

// What the point does now: Ok when inert; an Error for error/enospc; never returns for kill.
// Logs at warn each time a point fires, naming it.
Result<void> FailPoint(FailPointId id);

}  // namespace cricket

// Returns the fail point's error from the enclosing function (which returns a Result).
#define CR_FAILPOINT(id) CR_RETURN_IF_ERROR(::cricket::FailPoint(::cricket::FailPointId::id))
