#include "shim/shim_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/pipe.h"
#include "oci/console_socket.h"
#include "shim/control_protocol.h"

namespace cricket::shim {
namespace {

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// A listening unix socket at `path` (replacing a stale file), mode 0600.
Result<UniqueFd> ListenUnix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return Error(Code::kInvalidArgument, "socket path too long: " + path);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create socket " + path);
  }
  ::unlink(path.c_str());
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return Error::FromErrno(errno, "bind " + path);
  }
  if (::chmod(path.c_str(), 0600) < 0 || ::listen(fd.get(), 16) < 0) {
    return Error::FromErrno(errno, "listen on " + path);
  }
  return fd;
}

}  // namespace

ShimServer::ShimServer(const ShimOptions& options, Syscalls& sys, oci::CgroupInfo cgroups)
    : options_(options),
      runtime_(NewContainerRuntime(sys, options.runtime_binary, options.runtime_root,
                                   options.state_dir, std::move(cgroups))) {}

ShimServer::~ShimServer() = default;

Result<std::unique_ptr<ShimServer>> ShimServer::Create(const ShimOptions& options,
                                                       Syscalls& sys) {
  CR_ASSIGN_OR_RETURN(oci::CgroupInfo cgroups, oci::DetectCgroups());
  std::unique_ptr<ShimServer> server(new ShimServer(options, sys, std::move(cgroups)));
  CR_ASSIGN_OR_RETURN(CriLogWriter writer, CriLogWriter::Open(options.log_path));
  server->log_ = std::make_unique<LogPump>(std::move(writer));
  CR_FAILPOINT(kShimBeforeCreate);
  CR_RETURN_IF_ERROR(server->CreateContainer());
  // A failure after the runtime made the container deletes it again: the shim's failure
  // leaves no init waiting for a start that never comes.
  Cleanup drop_container([&] {
    if (auto deleted = server->runtime_->Delete(options.id, /*force=*/true); !deleted.ok()) {
      log::Error({.ctr = options.id}, "delete after a failed create: {}",
                 deleted.error().message());
    }
  });
  CR_FAILPOINT(kShimAfterCreate);
  CR_RETURN_IF_ERROR(server->Listen());
  server->WatchOom();
  drop_container.Dismiss();
  return server;
}

Result<void> ShimServer::CreateContainer() {
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));  // NOLINT
  Result<pid_t> created = Error(Code::kInternal, "not created");
  if (!options_.restore_from.empty() && options_.tty) {
    // A restored terminal needs its pty handed over as an external fd (criu --shell-job).
    return Error(Code::kFailedPrecondition, "restore of a tty container is not supported");
  }
  if (options_.tty) {
    // The init sends the pty master over a console socket (runc's protocol).
    const std::string console = options_.state_dir + "/console.sock";
    CR_ASSIGN_OR_RETURN(UniqueFd console_listener, ListenUnix(console));
    created = WithStdio(null_fd.get(), null_fd.get(), null_fd.get(),
                        [&] { return runtime_->Create(options_.id, options_.bundle, console); });
    ::unlink(console.c_str());
    if (!created.ok()) {
      return created.error();
    }
    UniqueFd conn(::accept4(console_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) {
      return Error::FromErrno(errno, "accept console connection");
    }
    CR_ASSIGN_OR_RETURN(pty_master_, oci::ReceiveFd(conn.get()));
    SetNonBlocking(pty_master_.get());
  } else {
    CR_ASSIGN_OR_RETURN(auto out, MakePipe());
    CR_ASSIGN_OR_RETURN(auto err, MakePipe());
    UniqueFd stdin_r;
    CR_ASSIGN_OR_RETURN(auto in, MakePipe());
    stdin_r = std::move(in.read);
    if (options_.stdin) {
      stdin_w_ = std::move(in.write);
      SetNonBlocking(stdin_w_.get());
    }
    // Without stdin the container reads EOF from a pipe nobody writes, not from our /dev/null:
    // CRIU can hand a pipe over on restore (--inherit-fd), but not a file of the node's /dev.
    created = WithStdio(stdin_r.get(), out.write.get(),
                        err.write.get(), [&] {
                          return options_.restore_from.empty()
                                     ? runtime_->Create(options_.id, options_.bundle, "")
                                     : runtime_->Restore(options_.id, options_.bundle,
                                                         options_.restore_from);
                        });
    if (!created.ok()) {
      return created.error();
    }
    stdout_r_ = std::move(out.read);
    stderr_r_ = std::move(err.read);
    SetNonBlocking(stdout_r_.get());
    SetNonBlocking(stderr_r_.get());
  }
  init_pid_ = *created;
  return Ok();
}

// Without a watch an OOM kill is still found at exit where the cgroup outlives its processes
// (cgroupfs driver); so a watch that cannot start degrades, it does not fail the container.
void ShimServer::WatchOom() {
  auto cgroup = runtime_->Cgroup(options_.id);
  auto watch = cgroup.ok() ? OomWatch::Start(std::move(*cgroup)) : Result<OomWatch>(cgroup.error());
  if (!watch.ok()) {
    log::Warn({.ctr = options_.id}, "no OOM watch: {}", watch.error().message());
    return;
  }
  oom_watch_.emplace(std::move(*watch));
}

Result<void> ShimServer::Listen() {
  CR_ASSIGN_OR_RETURN(listen_fd_, ListenUnix(options_.control_socket()));
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  signal_fd_.Reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) {
    return Error::FromErrno(errno, "signalfd");
  }
  return Ok();
}

void ShimServer::Run() {
  while (!deleted_) {
    std::vector<pollfd> fds;
    // Tags say what each pollfd is: -1 listener, -2 signals, -3 stdout, -4 stderr, -5 pty,
    // -6 OOM watch, -(10+i) attacher i's stdin, otherwise a connection fd.
    std::vector<int> tags;
    auto add = [&](int fd, int tag) {
      if (fd >= 0) {
        fds.push_back({fd, POLLIN, 0});
        tags.push_back(tag);
      }
    };
    // The OOM watch goes first: when a kill and the init's exit are both pending, the counter
    // is read before OnInitExit, while the cgroup is most likely still there.
    if (oom_watch_) {
      add(oom_watch_->fd(), -6);
    }
    add(listen_fd_.get(), -1);
    add(signal_fd_.get(), -2);
    add(stdout_r_.get(), -3);
    add(stderr_r_.get(), -4);
    add(pty_master_.get(), -5);
    for (size_t i = 0; i < attachers_.size(); ++i) {
      add(attachers_[i].in.get(), -10 - static_cast<int>(i));
    }
    for (const auto& [fd, conn] : connections_) {
      add(fd, fd);
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      log::Error({.ctr = options_.id}, "poll: {}", std::strerror(errno));
      return;
    }
    for (size_t i = 0; i < fds.size() && !deleted_; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      switch (int tag = tags[i]; tag) {
        case -1:
          OnControlConnection();
          break;
        case -2:
          OnChildExit();
          break;
        case -3:
          OnOutput(stdout_r_.get(), LogStream::kStdout);
          break;
        case -4:
          OnOutput(stderr_r_.get(), LogStream::kStderr);
          break;
        case -5:
          OnOutput(pty_master_.get(), LogStream::kStdout);
          break;
        case -6:
          if (oom_watch_) {
            oom_watch_->OnReadable();
          }
          break;
        default:
          if (tag <= -10) {
            OnAttacherInput(static_cast<size_t>(-10 - tag));
          } else if (connections_.contains(tag)) {
            OnRequest(tag);
          }
      }
    }
  }
}

void ShimServer::OnControlConnection() {
  int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    connections_.emplace(fd, UniqueFd(fd));
  }
}

void ShimServer::CloseConnection(int conn_fd) {
  std::erase_if(attachers_, [&](const Attacher& a) { return a.conn_fd == conn_fd; });
  connections_.erase(conn_fd);
  std::erase(exit_waiters_, conn_fd);
  std::erase_if(exec_waiters_, [&](const auto& entry) { return entry.second == conn_fd; });
}

void ShimServer::OnRequest(int conn_fd) {
  auto frame = ReceiveFrame(conn_fd, std::chrono::milliseconds(1000));
  if (!frame.ok()) {
    if (frame.error().code() != Code::kUnavailable) {
      (void)SendFrame(conn_fd, ErrorReply(frame.error()));
    }
    CloseConnection(conn_fd);
    return;
  }
  std::optional<nlohmann::json> reply = HandleRequest(conn_fd, frame->body, frame->fds);
  if (reply && !SendFrame(conn_fd, *reply).ok()) {
    CloseConnection(conn_fd);
  }
}

void ShimServer::OnOutput(int fd, LogStream stream) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      std::string data(buf, static_cast<size_t>(n));
      for (auto& a : attachers_) {
        const UniqueFd& target = stream == LogStream::kStderr && a.err.valid() ? a.err : a.out;
        // Best effort: an attacher that does not read loses output, the container never waits.
        (void)!::write(target.get(), data.data(), data.size());
      }
      log_->Push(stream, std::move(data));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    // EOF (or EIO on a pty whose last user closed it): the stream is over.
    log_->EndOfStream(stream);
    if (fd == stdout_r_.get()) {
      stdout_r_.Reset();
    } else if (fd == stderr_r_.get()) {
      stderr_r_.Reset();
    } else {
      pty_master_.Reset();
    }
    return;
  }
}

void ShimServer::OnAttacherInput(size_t index) {
  Attacher& a = attachers_[index];
  char buf[16384];
  ssize_t n = ::read(a.in.get(), buf, sizeof(buf));
  int target = pty_master_.valid() ? pty_master_.get() : stdin_w_.get();
  if (n > 0 && target >= 0) {
    (void)!::write(target, buf, static_cast<size_t>(n));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;
  }
  a.in.Reset();
  // CRI stdin_once: the container's stdin closes when the first attached client's does.
  if (options_.stdin_once && !stdin_closed_once_) {
    stdin_closed_once_ = true;
    stdin_w_.Reset();
  }
}

void ShimServer::DropAttachers() { attachers_.clear(); }

void ShimServer::OnChildExit() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
  }
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      return;
    }
    if (pid == init_pid_) {
      OnInitExit(status);
      continue;
    }
    auto waiter = exec_waiters_.find(pid);
    if (waiter != exec_waiters_.end()) {
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      (void)SendFrame(waiter->second, {{"exited", true}, {"exitCode", code}});
      exec_waiters_.erase(waiter);
    }
    // Anything else is an orphan reparented to us as subreaper: reaped, nothing to report.
  }
}

void ShimServer::OnInitExit(int wait_status) {
  ExitRecord record;
  record.pid = init_pid_;
  record.started_at_ns = started_at_ns_;
  record.finished_at_ns = NowUnixNanos();
  if (WIFSIGNALED(wait_status)) {
    record.signal = WTERMSIG(wait_status);
    record.exit_code = 128 + record.signal;
  } else {
    record.exit_code = WEXITSTATUS(wait_status);
  }
  if (auto state = runtime_->State(options_.id); state.ok()) {
    record.oom_killed = state->oom_killed;
  }
  // The state's read finds nothing when systemd has removed the scope already (OomWatch).
  if (oom_watch_) {
    record.oom_killed = record.oom_killed || oom_watch_->Killed();
    oom_watch_.reset();
  }
  // Whatever the container wrote before it died is still in the pipes: log it first.
  for (auto [fd, stream] : {std::pair{stdout_r_.get(), LogStream::kStdout},
                            std::pair{stderr_r_.get(), LogStream::kStderr},
                            std::pair{pty_master_.get(), LogStream::kStdout}}) {
    if (fd >= 0) {
      OnOutput(fd, stream);
    }
  }
  log_->Drain();
  exit_ = record;
  RecordExit();
  init_pid_ = -1;
  DropAttachers();
  stdin_w_.Reset();
  for (int conn : exit_waiters_) {
    (void)SendFrame(conn, OkReply({{"exitCode", record.exit_code}}));
  }
  exit_waiters_.clear();
  log::Info({.ctr = options_.id}, "container exited with {}", record.exit_code);
}

void ShimServer::RecordExit() {
  if (!exit_ || exit_recorded_) {
    return;
  }
  auto written = FailPoint(FailPointId::kShimBeforeExitRecord);
  if (written.ok()) {
    written = WriteExitRecord(options_.state_dir, *exit_);
  }
  if (!written.ok()) {
    // The exit is still answered from memory; the record is tried again on the next request
    // (a full disk may have room by then), so a later cricketd still finds it on disk.
    log::Error({.ctr = options_.id}, "record exit: {}", written.error().message());
    return;
  }
  exit_recorded_ = true;
}

}  // namespace cricket::shim
