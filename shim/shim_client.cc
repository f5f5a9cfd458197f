#include "shim/shim_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/pipe.h"
#include "common/subprocess.h"
#include "oci/spec_json.h"
#include "shim/control_protocol.h"

namespace cricket::shim {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Result<void> LaunchShim(const std::string& shim_binary, const ShimOptions& options,
                        std::chrono::milliseconds timeout, int exec_fd) {
  std::vector<std::string> argv = {shim_binary};
  for (auto& arg : ShimArgs(options)) {
    argv.push_back(std::move(arg));
  }
  SubprocessOptions run;
  run.timeout = timeout;
  run.exec_fd = exec_fd;
  CR_ASSIGN_OR_RETURN(SubprocessResult result, RunSubprocess(argv, run));
  if (result.exit_code != 0) {
    std::string message = result.err;
    while (!message.empty() && message.back() == '\n') {
      message.pop_back();
    }
    // The shim prints "<CODE>: <message>"; keep the code when it is one of ours.
    for (int c = 1; c <= static_cast<int>(Code::kUnauthenticated); ++c) {
      std::string prefix = std::string(CodeName(static_cast<Code>(c))) + ": ";
      if (message.starts_with(prefix)) {
        return Error(static_cast<Code>(c), message.substr(prefix.size()));
      }
    }
    return Error(Code::kInternal, "cricket-shim: " + message);
  }
  return Ok();
}

Result<UniqueFd> ShimClient::Connect() const {
  sockaddr_un addr{};
  if (socket_.size() >= sizeof(addr.sun_path)) {
    return Error(Code::kInvalidArgument, "shim socket path too long: " + socket_);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return Error(Code::kUnavailable,
                 "shim at " + socket_ + " is not answering: " + std::strerror(errno));
  }
  return fd;
}

Result<nlohmann::json> ShimClient::Call(const nlohmann::json& request, const std::vector<int>& fds,
                                        std::chrono::milliseconds timeout) const {
  CR_ASSIGN_OR_RETURN(UniqueFd conn, Connect());
  CR_RETURN_IF_ERROR(SendFrame(conn.get(), request, fds));
  CR_ASSIGN_OR_RETURN(Frame reply, ReceiveFrame(conn.get(), timeout));
  CR_RETURN_IF_ERROR(ReplyStatus(reply.body));
  return std::move(reply.body);
}

Result<ShimStatus> ShimClient::Status() const {
  CR_ASSIGN_OR_RETURN(nlohmann::json reply, Call({{"op", "status"}}));
  ShimStatus status;
  status.state = ReplyField(reply, "state", "");
  status.pid = ReplyField(reply, "pid", 0);
  status.started_at_ns = ReplyField(reply, "startedAt", int64_t{0});
  if (reply.contains("exit")) {
    const auto& e = reply["exit"];
    ExitRecord r;
    r.pid = status.pid;
    r.exit_code = ReplyField(e, "exitCode", 0);
    r.signal = ReplyField(e, "signal", 0);
    r.oom_killed = ReplyField(e, "oomKilled", false);
    r.started_at_ns = ReplyField(e, "startedAt", int64_t{0});
    r.finished_at_ns = ReplyField(e, "finishedAt", int64_t{0});
    status.exit = r;
  }
  return status;
}

Result<void> ShimClient::Start() const {
  CR_RETURN_IF_ERROR(Call({{"op", "start"}}));
  return Ok();
}

Result<void> ShimClient::Kill(int signal, bool all) const {
  CR_RETURN_IF_ERROR(Call({{"op", "kill"}, {"signal", signal}, {"all", all}}));
  return Ok();
}

Result<int> ShimClient::Wait(std::chrono::milliseconds timeout) const {
  CR_ASSIGN_OR_RETURN(nlohmann::json reply, Call({{"op", "wait"}}, {}, timeout));
  return ReplyField(reply, "exitCode", 0);
}

Result<void> ShimClient::ReopenLog() const {
  CR_RETURN_IF_ERROR(Call({{"op", "reopen_log"}}));
  return Ok();
}

Result<void> ShimClient::Resize(int width, int height) const {
  CR_RETURN_IF_ERROR(Call({{"op", "resize"}, {"width", width}, {"height", height}}));
  return Ok();
}

Result<void> ShimClient::Delete(bool force) const {
  CR_RETURN_IF_ERROR(Call({{"op", "delete"}, {"force", force}}));
  return Ok();
}

Result<ExecHandle> ShimClient::StartExec(const oci::Process& process, int stdin_fd,
                                         int stdout_fd, int stderr_fd) const {
  ExecHandle handle;
  CR_ASSIGN_OR_RETURN(handle.conn, Connect());
  const bool with_stdin = stdin_fd >= 0 && !process.terminal;
  nlohmann::json request = {{"op", "exec"},
                            {"process", nlohmann::json::parse(oci::ProcessToJson(process))},
                            {"stdin", with_stdin}};
  std::vector<int> fds;
  if (!process.terminal) {
    fds = {stdout_fd, stderr_fd};
    if (with_stdin) {
      fds.push_back(stdin_fd);
    }
  }
  CR_RETURN_IF_ERROR(SendFrame(handle.conn.get(), request, fds));
  CR_ASSIGN_OR_RETURN(Frame started, ReceiveFrame(handle.conn.get(), std::chrono::seconds(30)));
  CR_RETURN_IF_ERROR(ReplyStatus(started.body));
  handle.pid = ReplyField(started.body, "pid", 0);
  if (process.terminal) {
    if (started.fds.empty()) {
      return Error(Code::kInternal, "shim sent no pty for a terminal exec");
    }
    handle.pty_master = std::move(started.fds.front());
  }
  return handle;
}

Result<int> ShimClient::WaitExec(ExecHandle& handle) {
  for (;;) {
    auto exited = ReceiveFrame(handle.conn.get(), std::chrono::hours(24));
    if (exited.ok()) {
      return ReplyField(exited->body, "exitCode", -1);
    }
    if (exited.error().code() != Code::kDeadlineExceeded) {
      return exited.error();
    }
  }
}

Result<UniqueFd> ShimClient::Attach(int stdin_fd, int stdout_fd, int stderr_fd, bool tty) const {
  std::vector<int> fds = {stdout_fd};
  if (!tty) {
    fds.push_back(stderr_fd);
  }
  if (stdin_fd >= 0) {
    fds.push_back(stdin_fd);
  }
  CR_ASSIGN_OR_RETURN(UniqueFd conn, Connect());
  CR_RETURN_IF_ERROR(SendFrame(conn.get(), {{"op", "attach"}, {"stdin", stdin_fd >= 0}}, fds));
  CR_ASSIGN_OR_RETURN(Frame reply, ReceiveFrame(conn.get(), std::chrono::seconds(30)));
  CR_RETURN_IF_ERROR(ReplyStatus(reply.body));
  return conn;
}

Result<ExecSyncResult> ShimClient::ExecSync(const oci::Process& process,
                                            std::chrono::milliseconds timeout,
                                            size_t max_output_bytes) const {
  oci::Process p = process;
  p.terminal = false;
  CR_ASSIGN_OR_RETURN(auto out, MakePipe());
  CR_ASSIGN_OR_RETURN(auto err, MakePipe());
  CR_ASSIGN_OR_RETURN(UniqueFd conn, Connect());
  nlohmann::json request = {{"op", "exec"},
                            {"process", nlohmann::json::parse(oci::ProcessToJson(p))},
                            {"stdin", false}};
  CR_RETURN_IF_ERROR(SendFrame(conn.get(), request, {out.write.get(), err.write.get()}));
  out.write.Reset();  // the process holds the write ends now
  err.write.Reset();
  CR_ASSIGN_OR_RETURN(Frame started, ReceiveFrame(conn.get(), std::chrono::seconds(30)));
  CR_RETURN_IF_ERROR(ReplyStatus(started.body));
  const pid_t pid = ReplyField(started.body, "pid", 0);

  ExecSyncResult result;
  const auto deadline = Clock::now() + timeout;
  std::optional<int> exit_code;
  // Read both streams until they close and the exit arrives, or the deadline passes.
  while (!exit_code || out.read.valid() || err.read.valid()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0},
                     {exit_code ? -1 : conn.get(), POLLIN, 0}};
    if (::poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return Error::FromErrno(errno, "exec: poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      UniqueFd& fd = i == 0 ? out.read : err.read;
      std::string& sink = i == 0 ? result.out : result.err;
      char buf[65536];
      ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n > 0) {
        size_t room = max_output_bytes - std::min(max_output_bytes, sink.size());
        sink.append(buf, std::min(static_cast<size_t>(n), room));
      } else if (n == 0 || errno != EINTR) {
        fd.Reset();
      }
    }
    if (fds[2].revents != 0) {
      CR_ASSIGN_OR_RETURN(Frame exited, ReceiveFrame(conn.get(), std::chrono::seconds(5)));
      exit_code = ReplyField(exited.body, "exitCode", -1);
    }
  }
  if (result.timed_out) {
    // CRI: an ExecSync that times out must not leave its process running.
    if (pid > 0) {
      ::kill(pid, SIGKILL);
    }
    result.exit_code = -1;
    return result;
  }
  result.exit_code = *exit_code;
  return result;
}

}  // namespace cricket::shim
