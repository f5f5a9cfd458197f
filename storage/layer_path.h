#pragma once

// Path handling for layer unpack: every tar entry name is checked lexically and then resolved
// relative to the layer directory fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS), so no entry can reach outside the layer, neither with "../" nor through
// a symlink planted by an earlier entry.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::storage {

// Splits a tar entry name into clean components: "./a//b/" -> {"a", "b"}. "." and "" are
// dropped. kInvalidArgument naming the entry for absolute names and any ".." component. An empty
// result means the layer root itself.
Result<std::vector<std::string>> SplitEntryPath(std::string_view name);

// openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV.
// A symlink anywhere on the way fails with kInvalidArgument naming `what`.
Result<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags,
                            const std::string& what);

// Opens (O_PATH | O_DIRECTORY) the directory `components` names under `root_fd`, creating missing
// directories with mode 0755 when `create` is set.
Result<UniqueFd> OpenDirInRoot(int root_fd, const std::vector<std::string>& components, bool create,
                               const std::string& what);

// Removes `name` in `dir_fd`, recursively when it is a directory. OK when it does not exist.
// Never follows symlinks.
Result<void> RemoveAllAt(int dir_fd, const std::string& name);

}  // namespace cricket::storage
