#pragma once

// ShimServer: the body of one cricket-shim process, the monitor of one container.
//
// Create() makes the container through oci::Runtime in this process (not started yet), with its
// stdio on pipes (or a pty for tty containers) that this shim holds, and binds the control
// socket. Run() then serves, single-threaded, until the container is deleted: it drains the
// container's output into the CRI log (through LogPump, so a slow disk never stalls it) and to
// attached clients, reaps the container and exec'd processes (the shim is their subreaper),
// records the exit atomically in the state dir, and answers control requests:
//
//   status | start | kill {signal, all} | exec {process, tty, stdin} | attach {stdin} |
//   resize {width, height} | reopen_log | wait | delete {force}
//
// A malformed request gets an error reply and the connection is closed; the container is
// never harmed by a client.

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"
#include "oci/cgroup_detect.h"
#include "shim/container_runtime.h"
#include "shim/control_protocol.h"
#include "shim/exit_record.h"
#include "shim/log_pump.h"
#include "shim/oom_watch.h"
#include "shim/shim_options.h"

namespace cricket::shim {

class ShimServer {
 public:
  // SIGCHLD must already be blocked in every thread (the server reads it from a signalfd).
  static Result<std::unique_ptr<ShimServer>> Create(const ShimOptions& options, Syscalls& sys);
  ~ShimServer();

  // Serves until a delete request succeeds.
  void Run();

 private:
  struct Attacher {
    int conn_fd = -1;  // the client's control connection: closing it detaches
    UniqueFd out;
    UniqueFd err;  // invalid for tty containers: one stream
    UniqueFd in;   // invalid without stdin
  };

  ShimServer(const ShimOptions& options, Syscalls& sys, oci::CgroupInfo cgroups);
  Result<void> CreateContainer();
  void WatchOom();
  Result<void> Listen();

  // Event sources.
  void OnControlConnection();
  void OnRequest(int conn_fd);
  void OnOutput(int fd, LogStream stream);
  void OnAttacherInput(size_t index);
  void OnChildExit();
  void OnInitExit(int wait_status);

  // Requests (shim_ops.cc). Each returns the reply, or nullopt when it replies later.
  std::optional<nlohmann::json> HandleRequest(int conn_fd, const nlohmann::json& req,
                                              std::vector<UniqueFd>& fds);
  Result<nlohmann::json> Status();
  Result<nlohmann::json> Start();
  Result<nlohmann::json> Kill(const ShimRequest& req);
  Result<std::optional<nlohmann::json>> Exec(int conn_fd, const ShimRequest& req,
                                             std::vector<UniqueFd>& fds);
  Result<nlohmann::json> Attach(int conn_fd, const ShimRequest& req, std::vector<UniqueFd>& fds);
  Result<nlohmann::json> Resize(const ShimRequest& req);
  Result<nlohmann::json> Delete(const ShimRequest& req);

  // Runs `fn` with `in`/`out`/`err` as this process's stdio: the runtime's children inherit
  // fds 0-2. Single-threaded use only (the log thread never touches fds 0-2).
  template <typename Fn>
  auto WithStdio(int in, int out, int err, Fn&& fn) {
    // CLOEXEC: the runtime's children must not inherit the shim's own stdio as extra fds.
    int saved[3] = {::fcntl(0, F_DUPFD_CLOEXEC, 3),
                    ::fcntl(1, F_DUPFD_CLOEXEC, 3),   // NOLINT(cppcoreguidelines-pro-type-vararg)
                    ::fcntl(2, F_DUPFD_CLOEXEC, 3)};  // NOLINT(cppcoreguidelines-pro-type-vararg)
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    auto result = fn();
    for (int i = 0; i < 3; ++i) {
      ::dup2(saved[i], i);
      ::close(saved[i]);
    }
    return result;
  }

  // Writes the exit record (exit_) to the state dir, once; a failed write is retried on each
  // later request.
  void RecordExit();
  void CloseConnection(int conn_fd);
  void DropAttachers();

  ShimOptions options_;
  std::unique_ptr<ContainerRuntime> runtime_;
  std::unique_ptr<LogPump> log_;
  std::optional<OomWatch> oom_watch_;  // while the init runs

  UniqueFd listen_fd_;
  UniqueFd signal_fd_;
  std::map<int, UniqueFd> connections_;
  // Container stdio held by the shim.
  UniqueFd stdout_r_;
  UniqueFd stderr_r_;
  UniqueFd stdin_w_;
  UniqueFd pty_master_;  // tty containers: output and input both

  std::vector<Attacher> attachers_;
  bool stdin_closed_once_ = false;
  pid_t init_pid_ = 0;
  int64_t started_at_ns_ = 0;
  std::optional<ExitRecord> exit_;
  bool exit_recorded_ = false;         // exit_ is in the state dir
  std::map<pid_t, int> exec_waiters_;  // exec pid -> connection awaiting its exit
  std::vector<int> exit_waiters_;      // connections awaiting the container's exit
  bool deleted_ = false;
};

}  // namespace cricket::shim
