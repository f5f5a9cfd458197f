#pragma once

// A minimal container root filesystem for root tests: Debian's static busybox with its
// applets as symlinks in /bin, and an /etc/passwd and /etc/group with root.

#include <string>

namespace cricket::testing {

// Builds the rootfs at `dir` (created). Returns false (with a gtest failure) when
// /bin/busybox is missing.
bool MakeBusyboxRootfs(const std::string& dir);

}  // namespace cricket::testing
