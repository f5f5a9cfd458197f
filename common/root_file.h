#pragma once

// Reading a file that lives inside a tree cricketd does not trust: an image's layers, a
// snapshot, a container's rootfs. Everything in such a tree comes from the image or from the
// container, so a plain open(root + path) as root would follow its symlinks onto the host
// (/etc/passwd -> /dev/zero, -> /etc/shadow), hang on its FIFOs and open its device nodes.
// Every read of such a file by cricketd goes through ReadFileInRoot.

#include <cstddef>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

// 1 MiB: room for any real /etc/passwd or /etc/group; the bound on what one read can cost.
inline constexpr size_t kMaxAccountFileBytes = size_t{1} << 20;

// Opens the directory `root` (a path cricketd owns, e.g. a container's mounted rootfs) as an
// O_PATH | O_DIRECTORY | O_CLOEXEC fd for ReadFileInRoot. Errors name the root.
Result<UniqueFd> OpenRootDir(const std::string& root);

// Reads the file `path_in_root` as a process chrooted at `root_fd` would find it: resolved
// with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so ".." and absolute symlinks stay
// inside the root, /proc magic links are refused. The file is first opened O_PATH and must be
// a regular file; only then is it reopened for reading (O_NONBLOCK | O_NOCTTY), so a FIFO,
// socket or device node is never opened for I/O (opening some devices has effects of its own,
// e.g. a watchdog). At most `max_bytes` are returned: a larger file is an error, found after
// reading max_bytes + 1 bytes, never more.
//
// Codes, each message naming `path_in_root`: kNotFound when the file or a directory on the
// way does not exist (or a component is not a directory); kFailedPrecondition when it is not a
// regular file, or a magic link or a symlink loop is on the way; kResourceExhausted when it is
// larger than `max_bytes`; kUnimplemented on a kernel without openat2 (Linux < 5.6; there is
// no unsafe fallback); others from errno. Thread-safe.
Result<std::string> ReadFileInRoot(int root_fd, const std::string& path_in_root, size_t max_bytes);

// The same with the root given as a path; messages also name the root.
Result<std::string> ReadFileInRoot(const std::string& root, const std::string& path_in_root,
                                   size_t max_bytes);

}  // namespace cricket
