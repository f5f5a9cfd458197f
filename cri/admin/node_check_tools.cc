// Rows of `cricketctl check` for programs Cricket runs: CRIU (checkpoint/restore) and the
// binary of each configured runtime handler.

#include <string>

#include "cri/admin/node_check_internal.h"

namespace cricket::cri::admin::internal {

namespace {

constexpr const char* kCriuPaths[] = {"/usr/sbin/criu", "/usr/bin/criu", "/sbin/criu",
                                      "/usr/local/sbin/criu"};

// The first non-empty line of a program's output.
std::string FirstLine(const std::string& text) {
  size_t start = text.find_first_not_of('\n');
  if (start == std::string::npos) {
    return "";
  }
  return text.substr(start, text.find('\n', start) - start);
}

void CheckCriu(NodeCheckEnv& env, Rows& rows) {
  const std::string cost = "CheckpointContainer, CheckpointPod and RestorePod fail";
  const std::string path = FirstExecutable(env, kCriuPaths);
  if (path.empty()) {
    Add(rows, "criu", CheckStatus::kWarn, "not installed", cost + " (apt-get install criu)");
    return;
  }
  auto run = env.Run({path, "check"});
  if (!run.ok()) {
    Add(rows, "criu", CheckStatus::kWarn, path + " check: " + run.error().message(), cost);
  } else if (run->exit_code != 0) {
    std::string why = FirstLine(run->err);
    Add(rows, "criu", CheckStatus::kWarn,
        path + " check failed: " + (why.empty() ? FirstLine(run->out) : why),
        cost + " on this kernel");
  } else {
    Add(rows, "criu", CheckStatus::kOk, path + " check: " + FirstLine(run->out + run->err));
  }
}

}  // namespace

void CheckTools(NodeCheckEnv& env, const Config& config, Rows& rows) {
  CheckCriu(env, rows);
  Add(rows, "runtime handler (default)", CheckStatus::kOk, "Cricket's own runtime (built in)");
  for (const auto& [name, settings] : config.runtimes) {
    const std::string row = "runtime handler " + name;
    if (settings.path.empty()) {
      Add(rows, row, CheckStatus::kOk, "Cricket's own runtime (built in)");
    } else if (env.IsExecutable(settings.path)) {
      Add(rows, row, CheckStatus::kOk, settings.path);
    } else {
      Add(rows, row, CheckStatus::kFail, settings.path + " is not an executable file",
          "pods with runtimeClassName using handler \"" + name + "\" fail");
    }
  }
}

}  // namespace cricket::cri::admin::internal
