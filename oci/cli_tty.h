#pragma once

// `cricket-runtime run` of a process with a terminal and no --console-socket: the CLI holds the
// pty master itself and copies between it and its own stdio, as runc does.

namespace cricket::oci::cli {

// Copies stdin to the master and the master to stdout until the container side of the pty
// closes. A terminal on stdin is put in raw mode meanwhile and its size given to the pty.
void ProxyTerminal(int master);

}  // namespace cricket::oci::cli
