#pragma once

// The criu(8) command line, which checkpoint (oci/checkpoint.cc) and restore (oci/restore.cc)
// drive as runc and crun do (one `criu dump` / `criu restore` per call; no RPC service needed).
// Thread-compatible; no state beyond the call.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::oci {

// Overrides the criu binary (tests point it at a missing or a failing one).
inline constexpr const char* kCriuEnv = "CRICKET_CRIU";

struct CriuCall {
  std::vector<std::string> args;  // after argv[0]
  // Fds the child keeps at their numbers (CLOEXEC is cleared in the child only); 0, 1 and 2
  // are always kept.
  std::vector<int> keep_fds;
  // Runs in the parent while the child waits before execve: e.g. moving it into a cgroup, so
  // that what criu restores starts there. An error kills the child.
  std::function<Result<void>(pid_t)> before_exec;
  // The child's stdout and stderr go here when >= 0 (else they stay the caller's).
  int output_fd = -1;
};

// $CRICKET_CRIU, else `criu` in /usr/sbin, /sbin, /usr/local/sbin, /usr/bin.
// kFailedPrecondition "criu is not installed (...)" when there is none.
Result<std::string> FindCriu();

// Runs `criu check`: kFailedPrecondition "criu check failed: <its first error line>" when
// criu cannot run on this kernel (Debian's 3.17 on a 6.18 kernel: the vDSO), kInternal when it
// cannot be run at all. CRI and the CLI call it before a dump or restore, so that a node
// without a working CRIU says why instead of leaving half an image.
Result<void> CheckCriu(const std::string& criu);

// Runs criu with `call`, waits for it. kInternal "criu <verb> failed (exit N)" when it does
// not exit 0; the caller adds the log file's error lines (CriuLogErrors).
Result<void> RunCriu(const std::string& criu, const CriuCall& call);

// The lines of a criu log that say "Error" (at most the last `max_lines`), joined with "; ";
// empty when the file cannot be read.
std::string CriuLogErrors(const std::string& log_file, size_t max_lines = 3);

}  // namespace cricket::oci
