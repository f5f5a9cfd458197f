#include "cri/streaming/remote_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cerrno>
#include <functional>
#include <optional>

#include "common/log.h"
#include "cri/streaming/k8s_messages.h"
#include "cri/streaming/pumps.h"

namespace cricket::cri::streaming {

namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "create stdio pipe");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads resize JSON from the client into `queue` until the channel ends.
awaitable<void> PumpResize(ByteChannel& channel, std::shared_ptr<TerminalSizeQueue> queue) {
  ResizeDecoder decoder;
  for (;;) {
    auto chunk = co_await channel.Read();
    if (!chunk.ok() || chunk->empty()) {
      break;
    }
    auto sizes = decoder.Feed(*chunk);
    if (!sizes.ok()) {
      log::Debug({}, "dropping resize stream: {}", sizes.error().message());
      channel.Reset();
      break;
    }
    for (const TerminalSize& size : *sizes) {
      queue->Push(size);
    }
  }
  queue->Close();
}

}  // namespace

awaitable<void> JoinAll(std::vector<awaitable<void>> tasks) {
  auto ex = co_await asio::this_coro::executor;
  struct Join {
    explicit Join(const asio::any_io_executor& e) : done(e) {}
    size_t pending = 0;
    AsyncEvent done;
  };
  auto join = std::make_shared<Join>(ex);
  join->pending = tasks.size();
  for (auto& task : tasks) {
    asio::co_spawn(ex, std::move(task), [join](std::exception_ptr) {
      if (--join->pending == 0) {
        join->done.Notify();
      }
    });
  }
  while (join->pending > 0) {
    co_await join->done.Wait();
  }
}

namespace {

// The server's ends of the stdio pipes, shared by the pump coroutines that use them.
struct ServerEnds {
  std::optional<asio::posix::stream_descriptor> stdin_sd, stdout_sd, stderr_sd;
};

awaitable<void> PumpOut(std::shared_ptr<ServerEnds> /*keep*/, asio::posix::stream_descriptor& sd,
                        ByteChannel& channel) {
  co_await PumpFdToChannel(sd, channel);
}

awaitable<void> PumpIn(std::shared_ptr<ServerEnds> /*keep*/, ByteChannel& channel,
                       asio::posix::stream_descriptor& sd) {
  co_await PumpChannelToFd(channel, sd);
}

// Waits for `done` or until `deadline`, whichever comes first.
awaitable<void> WaitUntil(std::shared_ptr<bool> done, std::shared_ptr<AsyncEvent> event,
                          std::chrono::steady_clock::time_point deadline) {
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, deadline);
  timer->async_wait([event](boost::system::error_code) { event->Notify(); });
  while (!*done && std::chrono::steady_clock::now() < deadline) {
    co_await event->Wait();
  }
  timer->cancel();
}

ExecOutcome CallRuntime(StreamingRuntime& runtime, const RemoteCommand& command, StreamSet& io) {
  ExecOutcome out;
  if (command.attach) {
    auto attached = runtime.Attach(command.container_id, io);
    if (attached.ok()) {
      out.exit_code = 0;
    } else {
      out.error = attached.error().ToString();
    }
  } else {
    auto code = runtime.Exec(command.container_id, command.cmd, io);
    if (code.ok()) {
      out.exit_code = *code;
    } else {
      out.error = code.error().ToString();
    }
  }
  return out;
}

}  // namespace

awaitable<void> ServeRemoteCommand(RemoteCommand command, RemoteCommandChannels channels,
                                   RemoteCommandVersion version, StreamingRuntime& runtime,
                                   std::shared_ptr<Lifeline> lifeline,
                                   std::chrono::milliseconds drain_timeout) {
  auto ex = co_await asio::this_coro::executor;
  for (ByteChannel* output : {channels.stdout, channels.stderr, channels.error}) {
    if (output) {
      output->IgnoreInbound();
    }
  }
  auto io = std::make_shared<StreamSet>();
  io->tty = command.tty;
  auto ends = std::make_shared<ServerEnds>();
  ExecOutcome outcome;
  // Each requested stream gets a pipe: the runtime's end goes into the StreamSet.
  auto setup = [&]() -> Result<void> {
    if (channels.stdin) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe());
      io->stdin_fd = std::move(p.read);
      ends->stdin_sd.emplace(ex, p.write.Release());
    }
    if (channels.stdout) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe());
      io->stdout_fd = std::move(p.write);
      ends->stdout_sd.emplace(ex, p.read.Release());
    }
    if (channels.stderr && !command.tty) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe());
      io->stderr_fd = std::move(p.write);
      ends->stderr_sd.emplace(ex, p.read.Release());
    }
    return Ok();
  };
  if (auto ok = setup(); !ok.ok()) {
    outcome.error = ok.error().ToString();
  } else {
    auto resize = std::make_shared<TerminalSizeQueue>();
    if (command.tty) {
      io->resize = resize.get();
    }
    std::vector<awaitable<void>> outputs;
    std::vector<awaitable<void>> inputs;
    if (ends->stdout_sd) {
      outputs.push_back(PumpOut(ends, *ends->stdout_sd, *channels.stdout));
    }
    if (ends->stderr_sd) {
      outputs.push_back(PumpOut(ends, *ends->stderr_sd, *channels.stderr));
    }
    if (ends->stdin_sd) {
      inputs.push_back(PumpIn(ends, *channels.stdin, *ends->stdin_sd));
    }
    if (channels.resize) {
      inputs.push_back(PumpResize(*channels.resize, resize));
    }
    auto output_done = std::make_shared<bool>(false);
    auto output_event = std::make_shared<AsyncEvent>(ex);
    asio::co_spawn(ex, JoinAll(std::move(outputs)), [output_done, output_event](std::exception_ptr) {
      *output_done = true;
      output_event->Notify();
    });
    auto inputs_done = std::make_shared<bool>(false);
    auto inputs_event = std::make_shared<AsyncEvent>(ex);
    asio::co_spawn(ex, JoinAll(std::move(inputs)), [inputs_done, inputs_event](std::exception_ptr) {
      *inputs_done = true;
      inputs_event->Notify();
    });

    // Named, not a temporary in the co_await expression: GCC 12 double-destroys the latter.
    std::function<ExecOutcome()> call = [&runtime, command, io, resize] {
      ExecOutcome out = CallRuntime(runtime, command, *io);
      // Our copies of the runtime's ends go now, so the pumps see EOF once the process's do.
      io->stdin_fd.Reset();
      io->stdout_fd.Reset();
      io->stderr_fd.Reset();
      resize->Close();
      return out;
    };
    outcome = co_await RunBlocking<ExecOutcome>(lifeline, std::move(call));

    // Forward what the process wrote before it exited, unless a background child holds the
    // pipes open past the drain timeout; then cut everything off and wait for the pumps.
    co_await WaitUntil(output_done, output_event,
                       std::chrono::steady_clock::now() + drain_timeout);
    boost::system::error_code ec;
    for (auto* sd : {&ends->stdout_sd, &ends->stderr_sd, &ends->stdin_sd}) {
      if (*sd) {
        (*sd)->close(ec);
      }
    }
    for (ByteChannel* input : {channels.stdin, channels.resize}) {
      if (input) {
        input->Reset();
      }
    }
    while (!*output_done) {
      co_await output_event->Wait();
    }
    while (!*inputs_done) {
      co_await inputs_event->Wait();
    }
  }
  if (channels.error) {
    std::string status = version >= RemoteCommandVersion::kV4 ? StatusJson(outcome, command.cmd)
                                                              : StatusText(outcome, command.cmd);
    if (!status.empty()) {
      (void)co_await channels.error->Write(status);
    }
    channels.error->CloseWrite();
  }
}

}  // namespace cricket::cri::streaming
