#pragma once

// Network namespaces that outlive any process: each is an nsfs bind mount on a file (like
// `ip netns add`), so containers join it by path and cricketd can restart while pods run.

#include <functional>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::network {

// Creates a new network namespace pinned at `path` (the file must not exist) with loopback up.
// On failure nothing is left at `path`.
Result<void> CreateNetns(const std::string& path);

// Unmounts and removes the pin. A missing path is OK (idempotent).
Result<void> RemoveNetns(const std::string& path);

// Opens the namespace pinned at `path` (O_RDONLY|O_CLOEXEC); kNotFound when absent.
Result<UniqueFd> OpenNetns(const std::string& path);

// Runs `fn` on a short-lived thread that has joined the namespace `netns_fd`, so netlink
// sockets opened inside talk to that namespace. The calling thread never changes namespace.
Result<void> RunInNetns(int netns_fd, const std::function<Result<void>()>& fn);

}  // namespace cricket::network
