#pragma once

namespace cricket::oci {

// The container process's stdio and inherited fds. By default it inherits the caller's 0, 1
// and 2 (as runc's does); a shim passes its pipes instead. The fds stay the caller's.
struct StdioOptions {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // fds 3 .. 3+preserve_fds-1 stay open in the container (runc's --preserve-fds); every other
  // fd above 2 is closed on execve.
  int preserve_fds = 0;
};

}  // namespace cricket::oci
