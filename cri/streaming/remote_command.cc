#include "cri/streaming/remote_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <functional>
#include <optional>

#include "common/log.h"
#include "common/pipe.h"
#include "cri/streaming/k8s_messages.h"
#include "cri/streaming/pumps.h"

namespace cricket::cri::streaming {

namespace {

// Hands `fd` to an Asio descriptor without the throwing constructor.
Result<void> Adopt(std::optional<asio::posix::stream_descriptor>& sd,
                   const asio::any_io_executor& ex, UniqueFd fd) {
  sd.emplace(ex);
  boost::system::error_code ec;
  sd->assign(fd.get(), ec);
  if (ec) {
    sd.reset();
    return Error::FromErrno(ec.value(), "register stdio pipe");
  }
  fd.Release();
  return Ok();
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

// The server's ends of the stdio pipes of one command and the coroutines pumping them between
// those pipes and the client's channels. Shared by the pump coroutines, which keep it alive.
class CommandPumps : public std::enable_shared_from_this<CommandPumps> {
 public:
  CommandPumps(const asio::any_io_executor& ex, RemoteCommandChannels channels)
      : ex_(ex), channels_(channels), outputs_event_(ex), inputs_event_(ex) {}

  // Creates a pipe per requested stream; the runtime's ends go into `io`.
  Result<void> Open(bool tty, StreamSet& io) {
    if (channels_.stdin) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe("create stdio pipe"));
      io.stdin_fd = std::move(p.read);
      CR_RETURN_IF_ERROR(Adopt(stdin_, ex_, std::move(p.write)));
    }
    if (channels_.stdout) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe("create stdio pipe"));
      io.stdout_fd = std::move(p.write);
      CR_RETURN_IF_ERROR(Adopt(stdout_, ex_, std::move(p.read)));
    }
    if (channels_.stderr && !tty) {
      CR_ASSIGN_OR_RETURN(Pipe p, MakePipe("create stdio pipe"));
      io.stderr_fd = std::move(p.write);
      CR_RETURN_IF_ERROR(Adopt(stderr_, ex_, std::move(p.read)));
    }
    return Ok();
  }

  // Starts every pump; sizes from the resize channel go to `resize`.
  void Start(std::shared_ptr<TerminalSizeQueue> resize) {
    auto self = shared_from_this();
    std::vector<awaitable<void>> outputs;
    std::vector<awaitable<void>> inputs;
    if (stdout_) {
      outputs.push_back(PumpOut(self, *stdout_, *channels_.stdout));
    }
    if (stderr_) {
      outputs.push_back(PumpOut(self, *stderr_, *channels_.stderr));
    }
    if (stdin_) {
      inputs.push_back(PumpIn(self, *channels_.stdin, *stdin_));
    }
    if (channels_.resize) {
      inputs.push_back(PumpResize(*channels_.resize, std::move(resize)));
    }
    asio::co_spawn(ex_, JoinAll(std::move(outputs)), [self](std::exception_ptr) {
      self->outputs_done_ = true;
      self->outputs_event_.Notify();
    });
    asio::co_spawn(ex_, JoinAll(std::move(inputs)), [self](std::exception_ptr) {
      self->inputs_done_ = true;
      self->inputs_event_.Notify();
    });
  }

  // Once the process exited: forwards what it wrote, unless a background child holds the pipes
  // open past `drain_timeout`; then cuts everything off and waits for every pump to end.
  awaitable<void> Finish(std::chrono::milliseconds drain_timeout) {
    auto self = shared_from_this();
    asio::steady_timer timer(ex_, drain_timeout);
    timer.async_wait([self](boost::system::error_code) { self->outputs_event_.Notify(); });
    auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    while (!outputs_done_ && std::chrono::steady_clock::now() < deadline) {
      co_await outputs_event_.Wait();
    }
    timer.cancel();
    boost::system::error_code ec;
    for (auto* sd : {&stdout_, &stderr_, &stdin_}) {
      if (*sd) {
        (*sd)->close(ec);
      }
    }
    for (ByteChannel* input : {channels_.stdin, channels_.resize}) {
      if (input) {
        input->Reset();
      }
    }
    while (!outputs_done_) {
      co_await outputs_event_.Wait();
    }
    while (!inputs_done_) {
      co_await inputs_event_.Wait();
    }
  }

 private:
  static awaitable<void> PumpOut(std::shared_ptr<CommandPumps> /*keep*/,
                                 asio::posix::stream_descriptor& sd, ByteChannel& channel) {
    co_await PumpFdToChannel(sd, channel);
  }
  static awaitable<void> PumpIn(std::shared_ptr<CommandPumps> /*keep*/, ByteChannel& channel,
                                asio::posix::stream_descriptor& sd) {
    co_await PumpChannelToFd(channel, sd);
  }

  asio::any_io_executor ex_;
  RemoteCommandChannels channels_;
  std::optional<asio::posix::stream_descriptor> stdin_, stdout_, stderr_;
  bool outputs_done_ = false;
  bool inputs_done_ = false;
  AsyncEvent outputs_event_;
  AsyncEvent inputs_event_;
};

ExecOutcome CallRuntime(StreamingRuntime& runtime, const RemoteCommand& command, StreamSet& io) {
  ExecOutcome out;
  if (command.attach) {
    auto attached = runtime.RunAttachSession(command.container_id, io);
    if (attached.ok()) {
      out.exit_code = 0;
    } else {
      out.error = attached.error().ToString();
    }
  } else {
    auto code = runtime.RunExecSession(command.container_id, command.cmd, io);
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
  for (ByteChannel* output : {channels.stdout, channels.stderr, channels.error}) {
    if (output) {
      output->IgnoreInbound();
    }
  }
  auto pumps = std::make_shared<CommandPumps>(co_await asio::this_coro::executor, channels);
  auto io = std::make_shared<StreamSet>();
  io->tty = command.tty;
  auto resize = std::make_shared<TerminalSizeQueue>();
  io->resize = command.tty ? resize.get() : nullptr;
  ExecOutcome outcome;
  if (auto opened = pumps->Open(command.tty, *io); !opened.ok()) {
    outcome.error = opened.error().ToString();
  } else {
    pumps->Start(resize);
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
    ExecOutcome no_thread{std::nullopt, "cannot start a thread for the runtime call"};
    outcome = co_await RunBlocking<ExecOutcome>(lifeline, std::move(call), std::move(no_thread));
    co_await pumps->Finish(drain_timeout);
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
