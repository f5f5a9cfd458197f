#pragma once

// Nodes without CAP_SYS_RESOURCE (some VMs, rootless setups) cannot lower oom_score_adj below
// cricketd's own value, which containers inherit. kubelet asks for negative values for
// guaranteed pods; refusing those pods would make the node useless, so the request is clamped
// to the lowest value the node may set, and that is logged once.

#include <optional>

#include "oci/spec.h"

namespace cricket::cri {

// The lowest oom_score_adj this process may give its children: nullopt when it may set any
// (it has CAP_SYS_RESOURCE). Reads the capabilities and /proc/self/oom_score_adj; neither
// changes while cricketd runs, so the daemon calls it once at start-up and hands the value to
// the service (CriDeps::oom_score_adj_floor).
std::optional<int> OomScoreAdjFloor();

// Raises spec.process.oomScoreAdj to `floor` when it asks for less.
void ClampOomScoreAdj(std::optional<int> floor, oci::Spec& spec);

}  // namespace cricket::cri
