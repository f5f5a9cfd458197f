#pragma once

// Small file helpers shared by every module. They touch only files, so tests point them at a
// temp dir.

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket {

// Reads a whole file. kNotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// write(2) until all of `data` is written (retrying EINTR and short writes). `path` names the
// file in errors ("write <path>: ...").
Result<void> WriteAll(int fd, std::string_view data, const std::string& path);

// The entry names of `dir` without "." and "..", in readdir order.
// Errors name the directory ("open directory <dir>: ...").
Result<std::vector<std::string>> ListDirectory(const std::string& dir);

// How far a replaced file must survive.
enum class Durability {
  // fsync the file and its directory: survives power loss. Persistent data under the root.
  kPowerLoss,
  // rename only, no fsync: survives a crash of any process (the page cache outlives it), not
  // a power loss. For runtime state that a reboot makes meaningless anyway (under /run: bundles,
  // name files, shim records) — an fsync there costs milliseconds per file on a slow disk.
  kProcessCrash,
};

// Crash-safe replace: writes `path.tmp-<pid>`, renames it over `path` (fsyncing both first for
// kPowerLoss). After a crash `path` holds either the old or the new content, never a mix.
Result<void> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                             Durability durability = Durability::kPowerLoss);

// fsyncs directory `dir` so that a rename or a new entry in it survives a power loss. Best
// effort: the entry already changed, a failure leaves nothing to undo.
void FsyncDir(const std::string& dir);

// Writes `data` to an existing kernel file (/proc/sys, /sys, cgroupfs) in one write(2), as
// those files expect; no temp file, no rename.
Result<void> WriteKernelFile(const std::string& path, std::string_view data);

// mkdir -p; existing directories are left as they are, new ones get `mode`.
Result<void> MakeDirs(const std::string& path, mode_t mode);

}  // namespace cricket
