#include "common/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/log.h"

namespace cricket {
namespace {

constexpr size_t kCount = static_cast<size_t>(FailPointId::kCount);

constexpr std::array<FailPointInfo, kCount> kAll = {{
#define CR_FAILPOINT_NAME(id, name) {FailPointId::id, name},
#include "common/failpoint_names.inc"
#undef CR_FAILPOINT_NAME
}};

// Written only by ConfigureFailPoints (at start-up); read by every FailPoint.
std::array<FailAction, kCount> g_actions{};
std::atomic<bool> g_any_enabled{false};

Result<FailAction> ParseAction(std::string_view action) {
  if (action == "kill") {
    return FailAction::kKill;
  }
  if (action == "error") {
    return FailAction::kError;
  }
  if (action == "enospc") {
    return FailAction::kEnospc;
  }
  return Error(Code::kInvalidArgument,
               "fail point action \"" + std::string(action) + "\" is not kill, error or enospc");
}

Result<size_t> IndexOf(std::string_view name) {
  for (size_t i = 0; i < kCount; ++i) {
    if (kAll[i].name == name) {
      return i;
    }
  }
  return Error(Code::kInvalidArgument, "unknown fail point \"" + std::string(name) + "\"");
}

}  // namespace

std::span<const FailPointInfo> AllFailPoints() { return kAll; }

Result<void> ConfigureFailPoints(std::string_view spec) {
  std::array<FailAction, kCount> actions{};
  bool any = false;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) {
      continue;
    }
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return Error(Code::kInvalidArgument,
                   "fail point \"" + std::string(entry) + "\" has no =action");
    }
    CR_ASSIGN_OR_RETURN(size_t index, IndexOf(entry.substr(0, eq)));
    CR_ASSIGN_OR_RETURN(actions[index], ParseAction(entry.substr(eq + 1)));
    any = true;
  }
  g_actions = actions;
  g_any_enabled.store(any, std::memory_order_release);
  return Ok();
}

Result<void> ConfigureFailPointsFromEnv() {
  const char* spec = std::getenv("CRICKET_FAILPOINTS");  // NOLINT(concurrency-mt-unsafe): start-up
  if (spec == nullptr) {
    return Ok();
  }
  if (auto configured = ConfigureFailPoints(spec); !configured.ok()) {
    return configured.error().Wrap("CRICKET_FAILPOINTS");
  }
  return Ok();
}

Result<void> FailPoint(FailPointId id) {
  if (!g_any_enabled.load(std::memory_order_relaxed)) {
    return Ok();
  }
  const size_t index = static_cast<size_t>(id);
  const std::string_view name = kAll[index].name;
  switch (g_actions[index]) {
    case FailAction::kNone:
      return Ok();
    case FailAction::kKill:
      log::Warn({}, "fail point {}: kill", name);
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);  // not reached: SIGKILL cannot be caught
    case FailAction::kError:
      log::Warn({}, "fail point {}: error", name);
      return Error(Code::kInternal, "fail point " + std::string(name));
    case FailAction::kEnospc:
      log::Warn({}, "fail point {}: enospc", name);
      return Error::FromErrno(ENOSPC, "fail point " + std::string(name));
  }
  return Ok();
}

}  // namespace cricket
