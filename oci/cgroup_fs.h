#pragma once

// File helpers shared by the cgroup backends: write one control file, create a directory chain,
// read the pids of cgroup.procs. Writes go through the Syscalls seam.

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"

namespace cricket::oci::cgroupfs {

// Writes value to dir/file (the file must exist, as control files do). The error names both.
Result<void> WriteControl(Syscalls& sys, const std::string& dir, const std::string& file,
                          const std::string& value);

// mkdir for each missing component of root + path below root. Appends the directories it
// created (outermost first) to `created`.
Result<void> MakeChain(Syscalls& sys, const std::string& root, const std::string& path,
                       std::vector<std::string>& created);

// Removes directories innermost first; ENOENT is fine. Returns the first other error.
Result<void> RemoveDirs(Syscalls& sys, const std::vector<std::string>& dirs);

// The pids listed in dir/cgroup.procs; empty when dir does not exist.
Result<std::vector<pid_t>> ReadProcs(const std::string& dir);

// The first number in a file ("123\n" -> 123); 0 when the file is absent or says "max".
Result<uint64_t> ReadNumber(const std::string& file);

// The number after `key` in a flat-keyed file ("oom_kill 3" -> 3); 0 when absent.
Result<uint64_t> ReadKeyedValue(const std::string& file, const std::string& key);

// Several keys of one flat-keyed file from a single read (memory.stat has ~40 lines; reading it
// once per key would multiply a stats call's cost). Keys that are absent set their value to 0.
struct KeyedField {
  std::string_view key;
  uint64_t* value;
};
Result<void> ReadKeyedValues(const std::string& file, std::initializer_list<KeyedField> fields);

}  // namespace cricket::oci::cgroupfs
