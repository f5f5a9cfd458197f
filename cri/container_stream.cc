// Exec, Attach and PortForward: the RPCs mint a streaming URL; the streaming server then calls
// back here (CriService is its StreamingRuntime) to run the session through the shim.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "cri/service.h"
#include "network/netns.h"
#include "oci/spec_json.h"
#include "shim/control_protocol.h"
#include "shim/shim_client.h"

namespace cricket::cri {
namespace {

namespace streaming = ::cricket::cri::streaming;

UniqueFd DevNull() { return UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)); }  // NOLINT

void SetSize(int pty, streaming::TerminalSize size) {
  winsize ws{};
  ws.ws_col = size.width;
  ws.ws_row = size.height;
  ::ioctl(pty, TIOCSWINSZ, &ws);
}

// Copies the terminal both ways until the process's exit arrives on `exit_conn`.
void PumpTerminal(int pty, int in, int out, int exit_conn) {
  char buf[32768];
  bool in_open = in >= 0;
  for (;;) {
    pollfd fds[3] = {{pty, POLLIN, 0}, {in_open ? in : -1, POLLIN, 0}, {exit_conn, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
      return;
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(pty, buf, sizeof(buf));
      if (n <= 0) {
        return;  // EIO: every process on the terminal is gone
      }
      if (out >= 0 && ::write(out, buf, static_cast<size_t>(n)) < 0) {
        return;  // the client went away
      }
    }
    if (fds[1].revents != 0) {
      ssize_t n = ::read(in, buf, sizeof(buf));
      if (n <= 0) {
        in_open = false;
      } else {
        (void)!::write(pty, buf, static_cast<size_t>(n));
      }
    }
    if (fds[2].revents != 0 && fds[0].revents == 0) {
      return;  // exited and nothing more to read right now
    }
  }
}

}  // namespace

Result<oci::Process> CriService::ExecProcess(const ContainerInfo& info,
                                             const std::vector<std::string>& cmd, bool tty) {
  // The exec'd process gets the container's own user, env and working dir.
  CR_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadSpec(info.bundle));
  oci::Process process = *spec.process;
  process.args = cmd;
  process.terminal = tty;
  return process;
}

Result<int> CriService::RunExecSession(const std::string& container_id,
                                       const std::vector<std::string>& cmd,
                                       streaming::StreamSet& io) {
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(container_id));
  CR_ASSIGN_OR_RETURN(oci::Process process, ExecProcess(running.second, cmd, io.tty));
  auto shim = deps_.shims->Connect(running.second.shim_dir);
  UniqueFd null_fd = DevNull();
  auto fd_or_null = [&](const UniqueFd& fd) { return fd.valid() ? fd.get() : null_fd.get(); };
  CR_ASSIGN_OR_RETURN(shim::ExecHandle handle,
                      shim->StartExec(process, io.stdin_fd.valid() ? io.stdin_fd.get() : -1,
                                      fd_or_null(io.stdout_fd), fd_or_null(io.stderr_fd)));
  if (!io.tty) {
    return shim::ShimClient::WaitExec(handle);
  }
  // A terminal: the pty master is ours to pump and to resize.
  std::thread resizer([&] {
    while (io.resize != nullptr) {
      auto size = io.resize->Next();
      if (!size) {
        return;
      }
      SetSize(handle.pty_master.get(), *size);
    }
  });
  PumpTerminal(handle.pty_master.get(), io.stdin_fd.valid() ? io.stdin_fd.get() : -1,
               fd_or_null(io.stdout_fd), handle.conn.get());
  auto code = shim::ShimClient::WaitExec(handle);
  if (io.resize != nullptr) {
    io.resize->Close();
  }
  resizer.join();
  return code;
}

Result<void> CriService::RunAttachSession(const std::string& container_id,
                                          streaming::StreamSet& io) {
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(container_id));
  auto shim = deps_.shims->Connect(running.second.shim_dir);
  UniqueFd null_fd = DevNull();
  auto fd_or_null = [&](const UniqueFd& fd) { return fd.valid() ? fd.get() : null_fd.get(); };
  CR_ASSIGN_OR_RETURN(UniqueFd attached,
                      shim->Attach(io.stdin_fd.valid() ? io.stdin_fd.get() : -1,
                                   fd_or_null(io.stdout_fd), fd_or_null(io.stderr_fd), io.tty));
  std::thread resizer([&] {
    while (io.tty && io.resize != nullptr) {
      auto size = io.resize->Next();
      if (!size) {
        return;
      }
      (void)shim->Resize(size->width, size->height);
    }
  });
  // The shim now owns copies of the fds. The session lasts until the client goes away (our
  // stdout end reports an error), closes stdin (then output already on its way gets a moment
  // to arrive) or the container exits; closing `attached` then detaches the shim's copies.
  CR_ASSIGN_OR_RETURN(UniqueFd waiter, shim->Connect());
  (void)shim::SendFrame(waiter.get(), {{"op", "wait"}});
  for (;;) {
    pollfd fds[3] = {{io.stdout_fd.valid() ? io.stdout_fd.get() : -1, 0, 0},
                     {waiter.get(), POLLIN, 0},
                     {io.stdin_fd.valid() ? io.stdin_fd.get() : -1, 0, 0}};
    if (::poll(fds, 3, 1000) < 0 && errno != EINTR) {
      break;
    }
    if ((fds[0].revents & (POLLERR | POLLHUP)) != 0 || fds[1].revents != 0) {
      break;
    }
    if ((fds[2].revents & POLLHUP) != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      break;
    }
  }
  attached.Reset();
  if (io.resize != nullptr) {
    io.resize->Close();
  }
  resizer.join();
  return Ok();
}

Result<UniqueFd> CriService::PortForwardConnect(const std::string& sandbox_id, uint16_t port) {
  CR_ASSIGN_OR_RETURN(SandboxRecord record, deps_.store->GetSandbox(sandbox_id));
  CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(record));
  UniqueFd sock;
  auto connect = [&]() -> Result<void> {
    sock.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      return Error(Code::kUnavailable, "connect to port " + std::to_string(port) + " of sandbox " +
                                           sandbox_id + ": " + std::strerror(errno));
    }
    return Ok();
  };
  if (info.host_network || info.netns_path.empty()) {
    CR_RETURN_IF_ERROR(connect());
  } else {
    CR_ASSIGN_OR_RETURN(UniqueFd netns, network::OpenNetns(info.netns_path));
    CR_RETURN_IF_ERROR(network::RunInNetns(netns.get(), connect));
  }
  return sock;
}

Result<void> CriService::Exec(const v1::ExecRequest& req, v1::ExecResponse& resp) {
  if (deps_.streaming == nullptr) {
    return Error(Code::kUnavailable, "the streaming server is not running");
  }
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(req.container_id()));
  streaming::ExecRequest exec{running.first.id,
                              {req.cmd().begin(), req.cmd().end()},
                              req.tty(),
                              req.stdin(),
                              req.stdout(),
                              req.stderr()};
  CR_ASSIGN_OR_RETURN(std::string url, deps_.streaming->GetExec(exec));
  resp.set_url(url);
  return Ok();
}

Result<void> CriService::Attach(const v1::AttachRequest& req, v1::AttachResponse& resp) {
  if (deps_.streaming == nullptr) {
    return Error(Code::kUnavailable, "the streaming server is not running");
  }
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(req.container_id()));
  streaming::AttachRequest attach{running.first.id, req.tty(), req.stdin(), req.stdout(),
                                  req.stderr()};
  CR_ASSIGN_OR_RETURN(std::string url, deps_.streaming->GetAttach(attach));
  resp.set_url(url);
  return Ok();
}

Result<void> CriService::PortForward(const v1::PortForwardRequest& req,
                                     v1::PortForwardResponse& resp) {
  if (deps_.streaming == nullptr) {
    return Error(Code::kUnavailable, "the streaming server is not running");
  }
  CR_ASSIGN_OR_RETURN(std::string id, ResolveSandbox(req.pod_sandbox_id()));
  CR_ASSIGN_OR_RETURN(SandboxRecord record, deps_.store->GetSandbox(id));
  if (record.state != SandboxState::kReady) {
    return Error(Code::kFailedPrecondition, "sandbox " + id + " is not ready");
  }
  streaming::PortForwardRequest forward{id, {}};
  for (int32_t port : req.port()) {
    if (port <= 0 || port > 65535) {
      return Error(Code::kInvalidArgument, "port " + std::to_string(port) + " is out of range");
    }
    forward.ports.push_back(static_cast<uint16_t>(port));
  }
  CR_ASSIGN_OR_RETURN(std::string url, deps_.streaming->GetPortForward(forward));
  resp.set_url(url);
  return Ok();
}

}  // namespace cricket::cri
