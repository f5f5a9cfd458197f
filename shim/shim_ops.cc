// The control requests a shim answers (see shim_server.h for the list).

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/clock.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "oci/console_socket.h"
#include "oci/spec_json.h"
#include "shim/control_protocol.h"
#include "shim/shim_server.h"

namespace cricket::shim {
namespace {

nlohmann::json ExitJson(const ExitRecord& r) {
  return {{"exitCode", r.exit_code},   {"signal", r.signal},
          {"oomKilled", r.oom_killed}, {"startedAt", r.started_at_ns},
          {"finishedAt", r.finished_at_ns}};
}

}  // namespace

std::optional<nlohmann::json> ShimServer::HandleRequest(int conn_fd, const nlohmann::json& req,
                                                        std::vector<UniqueFd>& fds) {
  RecordExit();  // a write that failed before: the disk may have room now
  auto parsed = ParseRequest(req);
  if (!parsed.ok()) {
    return ErrorReply(parsed.error());
  }
  const std::string& op = parsed->op;
  Result<nlohmann::json> reply = Error(Code::kInvalidArgument, "unknown op \"" + op + "\"");
  if (op == "status") {
    reply = Status();
  } else if (op == "start") {
    reply = Start();
  } else if (op == "kill") {
    reply = Kill(*parsed);
  } else if (op == "exec") {
    auto exec = Exec(conn_fd, *parsed, fds);
    if (exec.ok() && !exec->has_value()) {
      return std::nullopt;
    }
    reply = exec.ok() ? Result<nlohmann::json>(**exec) : Result<nlohmann::json>(exec.error());
  } else if (op == "attach") {
    reply = Attach(conn_fd, *parsed, fds);
  } else if (op == "resize") {
    reply = Resize(*parsed);
  } else if (op == "reopen_log") {
    auto reopened = log_->Reopen();
    reply = reopened.ok() ? Result<nlohmann::json>(nlohmann::json::object())
                          : Result<nlohmann::json>(reopened.error());
  } else if (op == "wait") {
    if (!exit_) {
      exit_waiters_.push_back(conn_fd);
      return std::nullopt;
    }
    reply = nlohmann::json{{"exitCode", exit_->exit_code}};
  } else if (op == "delete") {
    reply = Delete(*parsed);
  }
  return reply.ok() ? OkReply(std::move(reply).value()) : ErrorReply(reply.error());
}

Result<nlohmann::json> ShimServer::Status() {
  nlohmann::json out = {{"id", options_.id}};
  if (exit_) {
    out["state"] = "stopped";
    out["exit"] = ExitJson(*exit_);
    out["pid"] = exit_->pid;
    return out;
  }
  CR_ASSIGN_OR_RETURN(oci::ContainerState state, runtime_->State(options_.id));
  out["state"] = oci::StatusName(state.status);
  out["pid"] = state.pid;
  out["startedAt"] = started_at_ns_;
  return out;
}

Result<nlohmann::json> ShimServer::Start() {
  // A restored container runs since the shim made it: start only records when it was started.
  if (options_.restore_from.empty() || started_at_ns_ != 0) {
    CR_RETURN_IF_ERROR(runtime_->Start(options_.id));
  }
  started_at_ns_ = NowUnixNanos();
  CR_FAILPOINT(kShimAfterStart);
  log::Info({.ctr = options_.id}, "container started pid={}", init_pid_);
  return nlohmann::json{{"pid", init_pid_}, {"startedAt", started_at_ns_}};
}

Result<nlohmann::json> ShimServer::Kill(const ShimRequest& req) {
  if (exit_) {
    return Error(Code::kFailedPrecondition, "container " + options_.id + " has exited");
  }
  CR_RETURN_IF_ERROR(runtime_->Kill(options_.id, req.signal, req.all));
  return nlohmann::json::object();
}

Result<std::optional<nlohmann::json>> ShimServer::Exec(int conn_fd, const ShimRequest& req,
                                                       std::vector<UniqueFd>& fds) {
  if (exit_) {
    return Error(Code::kFailedPrecondition, "container " + options_.id + " has exited");
  }
  CR_ASSIGN_OR_RETURN(oci::Process process, oci::ParseProcess(req.process.dump()));
  const bool tty = process.terminal;
  std::string console_socket;
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));  // NOLINT
  Result<pid_t> pid = Error(Code::kInternal, "not executed");
  UniqueFd master;
  if (tty) {
    // The pty master comes back over a console socket and is handed to the client.
    const std::string console = options_.state_dir + "/exec-console.sock";
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    UniqueFd listen_fd(listener);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", console.c_str());
    ::unlink(console.c_str());
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 ||
        ::listen(listener, 1) < 0) {
      return Error::FromErrno(errno, "exec: console socket " + console);
    }
    console_socket = console;
    pid = WithStdio(null_fd.get(), null_fd.get(), null_fd.get(),
                    [&] { return runtime_->Exec(options_.id, process, console_socket); });
    ::unlink(console.c_str());
    if (!pid.ok()) {
      return pid.error();
    }
    UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    CR_ASSIGN_OR_RETURN(master, oci::ReceiveFd(conn.get()));
  } else {
    // Descriptors: stdout, stderr, then stdin when asked for.
    const bool with_stdin = req.with_stdin;
    if (fds.size() != (with_stdin ? 3u : 2u)) {
      return Error(Code::kInvalidArgument, "exec: expected " + std::to_string(with_stdin ? 3 : 2) +
                                               " descriptors, got " + std::to_string(fds.size()));
    }
    int in = with_stdin ? fds[2].get() : null_fd.get();
    pid = WithStdio(in, fds[0].get(), fds[1].get(),
                    [&] { return runtime_->Exec(options_.id, process, console_socket); });
    if (!pid.ok()) {
      return pid.error();
    }
  }
  exec_waiters_[*pid] = conn_fd;
  nlohmann::json reply = OkReply({{"pid", *pid}});
  std::vector<int> out_fds;
  if (master.valid()) {
    out_fds.push_back(master.get());
  }
  CR_RETURN_IF_ERROR(SendFrame(conn_fd, reply, out_fds));
  return std::optional<nlohmann::json>();  // the exit code follows when it ends
}

Result<nlohmann::json> ShimServer::Attach(int conn_fd, const ShimRequest& req,
                                          std::vector<UniqueFd>& fds) {
  if (exit_) {
    return Error(Code::kFailedPrecondition, "container " + options_.id + " has exited");
  }
  const bool with_stdin = req.with_stdin;
  if (with_stdin && !stdin_w_.valid() && !pty_master_.valid()) {
    return Error(Code::kFailedPrecondition,
                 "container " + options_.id + " was not created with stdin");
  }
  // Descriptors: stdout, stderr (not for tty), then stdin when asked for.
  const size_t want = (options_.tty ? 1u : 2u) + (with_stdin ? 1u : 0u);
  if (fds.size() != want) {
    return Error(Code::kInvalidArgument, "attach: expected " + std::to_string(want) +
                                             " descriptors, got " + std::to_string(fds.size()));
  }
  Attacher a;
  a.conn_fd = conn_fd;
  size_t next = 0;
  a.out = std::move(fds[next++]);
  if (!options_.tty) {
    a.err = std::move(fds[next++]);
  }
  if (with_stdin) {
    a.in = std::move(fds[next++]);
    ::fcntl(a.in.get(), F_SETFL, ::fcntl(a.in.get(), F_GETFL) | O_NONBLOCK);
  }
  ::fcntl(a.out.get(), F_SETFL, ::fcntl(a.out.get(), F_GETFL) | O_NONBLOCK);
  if (a.err.valid()) {
    ::fcntl(a.err.get(), F_SETFL, ::fcntl(a.err.get(), F_GETFL) | O_NONBLOCK);
  }
  attachers_.push_back(std::move(a));
  return nlohmann::json::object();
}

Result<nlohmann::json> ShimServer::Resize(const ShimRequest& req) {
  if (!pty_master_.valid()) {
    return Error(Code::kFailedPrecondition, "container " + options_.id + " has no tty");
  }
  winsize size{};
  size.ws_col = static_cast<unsigned short>(req.width);
  size.ws_row = static_cast<unsigned short>(req.height);
  if (::ioctl(pty_master_.get(), TIOCSWINSZ, &size) < 0) {
    return Error::FromErrno(errno, "resize tty of " + options_.id);
  }
  return nlohmann::json::object();
}

Result<nlohmann::json> ShimServer::Delete(const ShimRequest& req) {
  CR_RETURN_IF_ERROR(runtime_->Delete(options_.id, req.force));
  deleted_ = true;
  log::Info({.ctr = options_.id}, "container deleted");
  return nlohmann::json::object();
}

}  // namespace cricket::shim
