#pragma once

// What the runtime reads about a process from /proc/<pid>/stat.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.h"

namespace cricket::oci {

struct ProcStat {
  char state = '?';         // R, S, D, Z, ...
  uint64_t start_time = 0;  // clock ticks after boot (field 22)
};

// Parses one /proc/<pid>/stat line; kInvalidArgument when it is malformed.
Result<ProcStat> ParseProcStat(std::string_view line);

// kNotFound when the process does not exist.
Result<ProcStat> ReadProcStat(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace cricket::oci
