#include "cri/streaming/port_forward.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <vector>

#include "cri/streaming/pumps.h"
#include "cri/streaming/remote_command.h"

namespace cricket::cri::streaming {

awaitable<void> ServePortForward(ByteChannel& data, ByteChannel& error, std::string sandbox_id,
                                 uint16_t port, StreamingRuntime& runtime,
                                 std::shared_ptr<Lifeline> lifeline) {
  error.IgnoreInbound();
  // Named, not a temporary in the co_await expression: GCC 12 double-destroys the latter.
  std::function<Result<UniqueFd>()> dial = [&runtime, sandbox_id, port] {
    return runtime.PortForwardConnect(sandbox_id, port);
  };
  Result<UniqueFd> no_thread = Error(Code::kResourceExhausted, "cannot start a thread to dial");
  auto socket =
      co_await RunBlocking<Result<UniqueFd>>(lifeline, std::move(dial), std::move(no_thread));
  asio::posix::stream_descriptor sd(co_await asio::this_coro::executor);
  if (socket.ok()) {
    boost::system::error_code ec;
    if (sd.assign(socket->get(), ec); ec) {
      socket = Error::FromErrno(ec.value(), "register forwarded socket");
    } else {
      socket->Release();
    }
  }
  if (!socket.ok()) {
    std::string message = "error forwarding port " + std::to_string(port) + " to pod " +
                          sandbox_id + ": " + socket.error().ToString();
    (void)co_await error.Write(message);
    error.CloseWrite();
    data.CloseWrite();
    co_return;
  }
  std::vector<awaitable<void>> pumps;
  pumps.push_back(PumpFdToChannel(sd, data));
  pumps.push_back(PumpChannelToFd(data, sd));
  co_await JoinAll(std::move(pumps));
  error.CloseWrite();
}

}  // namespace cricket::cri::streaming
