#pragma once

// The --console-socket protocol (runc's): the runtime connects to a unix stream socket and the
// container's init sends the pty master over it with SCM_RIGHTS (oci/child_console.cc).

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::oci {

// The connected console socket when the process has a terminal, an invalid fd otherwise:
// a copy of connected_fd when that is >= 0, else a new connection to socket_path.
// kInvalidArgument when a terminal is asked for without either.
Result<UniqueFd> ConsoleFor(bool terminal, const std::string& socket_path, int connected_fd);

// A connected, CLOEXEC socket to path.
Result<UniqueFd> ConnectConsoleSocket(const std::string& path);

// Receives one fd sent with SCM_RIGHTS on sock (the receiving end, for tests and tools).
Result<UniqueFd> ReceiveFd(int sock);

}  // namespace cricket::oci
