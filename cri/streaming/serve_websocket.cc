// Remote command and port-forward over WebSocket (kubelet's wsstream channel protocol).

#include <vector>

#include "cri/streaming/port_forward.h"
#include "cri/streaming/serve_sessions.h"

namespace cricket::cri::streaming {

namespace {

// Channel numbers of the remote command protocol (k8s.io/apiserver wsstream / remotecommand).
constexpr size_t kStdin = 0;
constexpr size_t kStdout = 1;
constexpr size_t kStderr = 2;
constexpr size_t kError = 3;
constexpr size_t kResize = 4;

}  // namespace

awaitable<void> ServeWsRemoteCommand(std::shared_ptr<WsSession> session, RemoteCommand command,
                                     WantedStreams want, RemoteCommandVersion version,
                                     ServeContext ctx) {
  session->Start();
  bool want_stderr = want.stderr && !command.tty;
  // kubelet sends an empty message on the lowest writable channel to say the session is up.
  size_t hello = want.stdout ? kStdout : (want_stderr ? kStderr : kError);
  (void)co_await session->channel(hello).Write("");
  RemoteCommandChannels channels;
  channels.stdin = want.stdin ? &session->channel(kStdin) : nullptr;
  channels.stdout = want.stdout ? &session->channel(kStdout) : nullptr;
  channels.stderr = want_stderr ? &session->channel(kStderr) : nullptr;
  channels.error = &session->channel(kError);
  channels.resize = command.tty ? &session->channel(kResize) : nullptr;
  // Only stdin and resize carry anything we read; whatever arrives elsewhere is dropped.
  for (size_t i = 0; i < session->channel_count(); ++i) {
    bool read = (i == kStdin && channels.stdin) || (i == kResize && channels.resize);
    if (!read) {
      session->channel(i).IgnoreInbound();
    }
  }
  co_await ServeRemoteCommand(std::move(command), channels, version, *ctx.runtime, ctx.lifeline,
                              ctx.drain_timeout);
  session->Close();
}

awaitable<void> ServeWsPortForward(std::shared_ptr<WsSession> session, std::string sandbox_id,
                                   std::vector<uint16_t> ports, ServeContext ctx) {
  session->Start();
  std::vector<awaitable<void>> forwards;
  for (size_t i = 0; i < ports.size(); ++i) {
    // kubelet: channel 2i carries data and 2i+1 errors for ports[i]; each starts with the port
    // number, two bytes little-endian.
    std::string port_bytes{static_cast<char>(ports[i] & 0xff), static_cast<char>(ports[i] >> 8)};
    (void)co_await session->channel(2 * i).Write(port_bytes);
    (void)co_await session->channel(2 * i + 1).Write(port_bytes);
    forwards.push_back(ServePortForward(session->channel(2 * i), session->channel(2 * i + 1),
                                        sandbox_id, ports[i], *ctx.runtime, ctx.lifeline));
  }
  co_await JoinAll(std::move(forwards));
  session->Close();
}

}  // namespace cricket::cri::streaming
