#include "cri/oom_score.h"

#include <sys/capability.h>

#include <mutex>
#include <string>

#include "common/files.h"
#include "common/log.h"

namespace cricket::cri {

std::optional<int> OomScoreAdjFloor() {
  cap_t caps = cap_get_proc();
  cap_flag_value_t has = CAP_CLEAR;
  if (caps != nullptr) {
    cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &has);
    cap_free(caps);
  }
  if (has == CAP_SET) {
    return std::nullopt;
  }
  auto own = ReadFile("/proc/self/oom_score_adj");
  try {
    return own.ok() ? std::stoi(*own) : 0;
  } catch (...) {
    return 0;
  }
}

void ClampOomScoreAdj(std::optional<int> floor, oci::Spec& spec) {
  if (!floor || !spec.process->oom_score_adj || *spec.process->oom_score_adj >= *floor) {
    return;
  }
  static std::once_flag logged;
  std::call_once(logged, [&] {
    log::Warn({}, "this node lacks CAP_SYS_RESOURCE: oom_score_adj below {} is raised to {} "
                  "(first asked: {}; logged once)",
              *floor, *floor, *spec.process->oom_score_adj);
  });
  spec.process->oom_score_adj = *floor;
}

}  // namespace cricket::cri
