#pragma once

// The cricketd side of the shim: starting one and talking to it over its control socket.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/unique_fd.h"
#include "oci/spec.h"
#include "shim/exit_record.h"
#include "shim/shim_options.h"

namespace cricket::shim {

// Runs `shim_binary` with `options` and waits until the container is created (not started).
// The error carries the shim's own message ("INVALID_ARGUMENT: process.args: ...").
// `exec_fd`, when given, is what runs (cricketd's sealed copy of the shim, so that the code the
// shim runs in the container's namespaces is never the host's file); `shim_binary` then only
// names it.
Result<void> LaunchShim(const std::string& shim_binary, const ShimOptions& options,
                        std::chrono::milliseconds timeout, int exec_fd = -1);

struct ShimStatus {
  std::string state;  // "created", "running", "stopped"
  int pid = 0;
  int64_t started_at_ns = 0;
  std::optional<ExitRecord> exit;
};

struct ExecSyncResult {
  int exit_code = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};

// A process started by ShimClient::StartExec: the connection its exit code arrives on and, for
// a terminal, the pty master.
struct ExecHandle {
  UniqueFd conn;
  int pid = 0;
  UniqueFd pty_master;
};

class ShimClient {
 public:
  explicit ShimClient(std::string control_socket) : socket_(std::move(control_socket)) {}

  // kUnavailable when the shim is gone.
  Result<ShimStatus> Status() const;
  Result<void> Start() const;
  Result<void> Kill(int signal, bool all) const;
  // Waits up to `timeout` for the container to exit; its exit code.
  Result<int> Wait(std::chrono::milliseconds timeout) const;
  Result<void> ReopenLog() const;
  Result<void> Resize(int width, int height) const;
  // Deletes the container; the shim exits afterwards.
  Result<void> Delete(bool force) const;

  // Runs `process` in the container and collects its output (each stream capped at
  // `max_output_bytes`). On timeout the process is killed and timed_out is set.
  Result<ExecSyncResult> ExecSync(const oci::Process& process, std::chrono::milliseconds timeout,
                                  size_t max_output_bytes = 16 << 20) const;

  // Starts `process` with `stdout_fd`, `stderr_fd` and (if valid) `stdin_fd` as its stdio, or
  // with a pty whose master comes back in the handle when process.terminal is set.
  Result<ExecHandle> StartExec(const oci::Process& process, int stdin_fd, int stdout_fd,
                               int stderr_fd) const;
  // Blocks until the exec'd process exits; its exit code (128+signal when killed).
  static Result<int> WaitExec(ExecHandle& handle);
  // Tees the container's output to `stdout_fd`/`stderr_fd` (one stream for tty containers)
  // and feeds `stdin_fd` (if valid) to its stdin, until the container exits or the returned
  // connection is closed (which detaches).
  Result<UniqueFd> Attach(int stdin_fd, int stdout_fd, int stderr_fd, bool tty) const;

  // One request, one reply.
  Result<nlohmann::json> Call(const nlohmann::json& request, const std::vector<int>& fds = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  Result<UniqueFd> Connect() const;

 private:
  std::string socket_;
};

}  // namespace cricket::shim
