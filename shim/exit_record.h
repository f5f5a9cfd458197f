#pragma once

// ExitRecord: how a container ended, written by its shim atomically into the shim's state dir
// the moment it knows, so a cricketd that was down at the time (or restarted since) still
// learns the exit code, signal, OOM kill and times.

#include <cstdint>
#include <string>

#include "common/result.h"

namespace cricket::shim {

struct ExitRecord {
  int pid = 0;
  int exit_code = 0;     // 128+signal when a signal ended it, as a shell reports
  int signal = 0;        // the terminating signal, 0 for a normal exit
  bool oom_killed = false;
  int64_t started_at_ns = 0;
  int64_t finished_at_ns = 0;
};

inline constexpr const char* kExitRecordFile = "exit.json";

// Writes `<dir>/exit.json` crash-safely.
Result<void> WriteExitRecord(const std::string& dir, const ExitRecord& record);
// kNotFound while the container has not exited; kDataLoss for a corrupt file.
Result<ExitRecord> ReadExitRecord(const std::string& dir);

}  // namespace cricket::shim
