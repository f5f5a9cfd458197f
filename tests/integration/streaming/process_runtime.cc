#include "tests/integration/streaming/process_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "network/netns.h"

namespace cricket::testing {

namespace {

using cri::streaming::StreamSet;

// Copies `from` to `to` until EOF or an error; with `stop` valid, also ends when it is readable.
void Copy(int from, int to, int stop = -1) {
  char buf[32 * 1024];
  for (;;) {
    if (stop >= 0) {
      pollfd fds[2] = {{from, POLLIN, 0}, {stop, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        return;
      }
      if (fds[1].revents != 0) {
        return;
      }
      if (fds[0].revents == 0) {
        continue;
      }
    }
    ssize_t n = ::read(from, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        return;
      }
      off += w;
    }
  }
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

std::vector<char*> Argv(const std::vector<std::string>& cmd) {
  std::vector<char*> argv;
  for (const std::string& s : cmd) {
    argv.push_back(const_cast<char*>(s.c_str()));
  }
  argv.push_back(nullptr);
  return argv;
}

Result<int> ExecPipes(const std::vector<std::string>& cmd, StreamSet& io) {
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  auto argv = Argv(cmd);
  int in = io.stdin_fd.valid() ? io.stdin_fd.get() : devnull.get();
  int out = io.stdout_fd.valid() ? io.stdout_fd.get() : devnull.get();
  int err = io.stderr_fd.valid() ? io.stderr_fd.get() : devnull.get();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);  // asio sockets are not CLOEXEC: keep them out of the child
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return WaitExit(pid);
}

Result<int> ExecTty(const std::vector<std::string>& cmd, StreamSet& io) {
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) < 0) {
    return Error::FromErrno(errno, "openpty");
  }
  UniqueFd master_fd(master);
  UniqueFd slave_fd(slave);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  int stop[2];
  if (::pipe2(stop, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd stop_r(stop[0]);
  UniqueFd stop_w(stop[1]);
  auto argv = Argv(cmd);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork");
  }
  if (pid == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    ::close_range(3, ~0U, 0);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  slave_fd.Reset();
  std::thread resize([&] {
    while (auto size = io.resize ? io.resize->Next() : std::nullopt) {
      winsize ws{};
      ws.ws_col = size->width;
      ws.ws_row = size->height;
      ::ioctl(master, TIOCSWINSZ, &ws);
    }
  });
  std::thread input([&] {
    if (io.stdin_fd.valid()) {
      Copy(io.stdin_fd.get(), master, stop_r.get());
    }
  });
  std::thread output([&] { Copy(master, io.stdout_fd.valid() ? io.stdout_fd.get() : -1); });
  int code = WaitExit(pid);
  output.join();  // the pty reports EIO once the process and its children closed the slave
  if (io.resize) {
    io.resize->Close();
  }
  (void)!::write(stop_w.get(), "x", 1);
  input.join();
  resize.join();
  return code;
}

}  // namespace

ProcessRuntime::~ProcessRuntime() {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : containers_) {
    ::kill(c.pid, SIGKILL);
    WaitExit(c.pid);
  }
}

void ProcessRuntime::AddSandbox(const std::string& id, const std::string& netns_path) {
  std::lock_guard lock(mu_);
  sandboxes_[id] = netns_path;
}

Result<void> ProcessRuntime::StartContainer(const std::string& id,
                                            const std::vector<std::string>& argv_strings) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  auto argv = Argv(argv_strings);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork");
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::close_range(3, ~0U, 0);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  std::lock_guard lock(mu_);
  containers_[id] = Container{pid, UniqueFd(in[1]), UniqueFd(out[0])};
  return Ok();
}

Result<int> ProcessRuntime::RunExecSession(const std::string& container_id,
                                           const std::vector<std::string>& cmd, StreamSet& io) {
  if (container_id == "missing") {
    return Error(Code::kNotFound, "container missing not found");
  }
  return io.tty ? ExecTty(cmd, io) : ExecPipes(cmd, io);
}

Result<void> ProcessRuntime::RunAttachSession(const std::string& container_id, StreamSet& io) {
  int stdin_w = -1;
  int stdout_r = -1;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(container_id);
    if (it == containers_.end()) {
      return Error(Code::kNotFound, "container " + container_id + " not found");
    }
    stdin_w = it->second.stdin_w.get();
    stdout_r = it->second.stdout_r.get();
  }
  int stop[2];
  if (::pipe2(stop, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd stop_r(stop[0]);
  UniqueFd stop_w(stop[1]);
  std::thread input([&] {
    if (io.stdin_fd.valid()) {
      Copy(io.stdin_fd.get(), stdin_w, stop_r.get());
    }
  });
  // Until the container's output ends (it exited) or the client went away (EPIPE).
  Copy(stdout_r, io.stdout_fd.valid() ? io.stdout_fd.get() : -1);
  (void)!::write(stop_w.get(), "x", 1);
  input.join();
  return Ok();
}

Result<UniqueFd> ProcessRuntime::PortForwardConnect(const std::string& sandbox_id, uint16_t port) {
  std::string netns_path;
  {
    std::lock_guard lock(mu_);
    auto it = sandboxes_.find(sandbox_id);
    if (it == sandboxes_.end()) {
      return Error(Code::kNotFound, "sandbox " + sandbox_id + " not found");
    }
    netns_path = it->second;
  }
  UniqueFd sock;
  auto dial = [&]() -> Result<void> {
    sock.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) {
      return Error::FromErrno(errno, "socket");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      return Error(Code::kUnavailable,
                   "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno),
                   errno);
    }
    return Ok();
  };
  if (netns_path.empty()) {
    CR_RETURN_IF_ERROR(dial());
  } else {
    CR_ASSIGN_OR_RETURN(UniqueFd ns, network::OpenNetns(netns_path));
    CR_RETURN_IF_ERROR(network::RunInNetns(ns.get(), dial));
  }
  return sock;
}

}  // namespace cricket::testing
