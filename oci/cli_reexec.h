#pragma once

// `cricket-runtime create|run|exec` run from a sealed copy of the runtime (CVE-2019-5736 class).
// The container's init and exec children are clones of this process: until their execve a
// process in the container can reach our executable through /proc/<pid>/exe, keep an O_PATH
// fd to it and, once we have exited, reopen it for writing. So the commands that run code in a
// container first re-execute themselves from common/sealed_exe.h's handle, which cannot be
// written through. Other commands (state, kill, delete...) never enter a container and skip it.

#include <string>

#include "common/result.h"

namespace cricket::oci::cli {

// Set in the environment of the re-executed runtime (and removed from it at once): "we are the
// sealed copy", so that a failure to recognise the seal is an error, not an endless loop.
inline constexpr const char* kSealedEnv = "_CRICKET_RUNTIME_SEALED";

// Returns Ok() when /proc/self/exe is sealed already; otherwise re-executes argv from a sealed
// copy (the overlay with `scratch_dir`, made if missing, as its second layer; a memfd where
// overlayfs cannot be used) and returns only on failure.
Result<void> RunFromSealedExe(char** argv, const std::string& scratch_dir);

}  // namespace cricket::oci::cli
