#pragma once

// The contract between the streaming server and whatever runs processes (the CRI layer over the
// per-container shim; a fork/exec runtime in tests). The server speaks the wire protocols and
// moves bytes; the runtime only ever sees file descriptors, so it can hand them straight to a
// process, or to the shim over SCM_RIGHTS, without copying.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::cri::streaming {

struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const TerminalSize&) const = default;
};

// Resize events from the client, in order. The server pushes; the runtime pulls from its own
// thread. Thread-safe.
class TerminalSizeQueue {
 public:
  void Push(TerminalSize size);
  // Blocks for the next size; std::nullopt once Close()d and drained.
  std::optional<TerminalSize> Next();
  // Ends the queue (the client went away or the session ended). Idempotent.
  void Close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TerminalSize> sizes_;  // Guarded by mu_.
  bool closed_ = false;             // Guarded by mu_.
};

// The process side of one exec or attach session. Each fd is the runtime's end of a pipe whose
// other end the server pumps to or from the client; an invalid fd means the client did not ask
// for that stream. The server owns the StreamSet and closes these fds once the runtime call
// returns, so the runtime may dup them (into a child) but must not keep them past the call.
struct StreamSet {
  UniqueFd stdin_fd;   // read: what the client types; EOF once the client closed stdin
  UniqueFd stdout_fd;  // write: the process's stdout (with tty: the terminal output)
  UniqueFd stderr_fd;  // write: stderr; never set with tty (kubelet folds it into the terminal)
  bool tty = false;
  // Set when tty: window sizes the client sends, the first one usually before any output.
  TerminalSizeQueue* resize = nullptr;
};

class StreamingRuntime {
 public:
  virtual ~StreamingRuntime() = default;

  // Runs `cmd` in the container and blocks until it exits; returns its exit code (128+signal
  // when killed). Output written to io.stdout_fd/io.stderr_fd reaches the client; the server
  // forwards everything the process wrote before EOF, then reports the exit code.
  // kNotFound: no such container; kFailedPrecondition: not running; others: could not start.
  // Called on a thread of its own; may block as long as the process runs.
  virtual Result<int> RunExecSession(const std::string& container_id,
                                     const std::vector<std::string>& cmd, StreamSet& io) = 0;

  // Connects io to the container's main process stdio (via the shim) and blocks until the
  // client detaches (io.stdin_fd EOF or a write to io.stdout_fd fails with EPIPE) or the
  // process exits. Called on a thread of its own.
  virtual Result<void> RunAttachSession(const std::string& container_id, StreamSet& io) = 0;

  // Returns a connected TCP socket to 127.0.0.1:`port` inside the sandbox's network namespace
  // (the host's for host-network pods). kNotFound: no such sandbox; kUnavailable: refused.
  // Called on a thread of its own; the server owns the socket afterwards.
  virtual Result<UniqueFd> PortForwardConnect(const std::string& sandbox_id, uint16_t port) = 0;
};

}  // namespace cricket::cri::streaming
