#include "common/subprocess.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/pipe.h"
#include "common/unique_fd.h"

namespace cricket {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Waits up to `timeout` for `pid` to exit (without reaping it). False on timeout.
bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    return true;  // cannot watch: the caller's waitpid blocks instead
  }
  pollfd fd{pidfd.get(), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready != 0;
}

}  // namespace

Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const SubprocessOptions& options) {
  if (argv.empty()) {
    return Error(Code::kInvalidArgument, "run subprocess: empty argv");
  }
  if (options.inherit_stdio && !options.stdin_data.empty()) {
    return Error(Code::kInvalidArgument, "run subprocess: stdin_data with inherited stdio");
  }
  CR_ASSIGN_OR_RETURN(Pipe in, MakePipe());
  CR_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  CR_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  CR_ASSIGN_OR_RETURN(Pipe exec_status, MakePipe());  // carries errno if execve fails

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = argv;
  std::vector<char*> c_args = CStrings(args);
  std::vector<std::string> env = options.env.value_or(std::vector<std::string>{});
  std::vector<char*> c_env = CStrings(env);

  pid_t pid = ::fork();
  if (pid < 0) {
    return Error::FromErrno(errno, "fork for " + argv[0]);
  }
  if (pid == 0) {
    if (!options.inherit_stdio) {
      ::dup2(in.read.get(), STDIN_FILENO);
      ::dup2(out.write.get(), STDOUT_FILENO);
      ::dup2(err.write.get(), STDERR_FILENO);
    }
    // Whatever another thread opened without CLOEXEC (Asio's sockets until it sets the flag)
    // is not the program's: mark everything above stdio. Linux 5.11; best effort before.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    ::signal(SIGPIPE, SIG_DFL);
    char** envp = options.env ? c_env.data() : environ;
    if (options.exec_fd >= 0) {
      ::syscall(SYS_execveat, options.exec_fd, "", c_args.data(), envp, AT_EMPTY_PATH);
    } else {
      ::execve(c_args[0], c_args.data(), envp);
    }
    int e = errno;
    (void)!::write(exec_status.write.get(), &e, sizeof(e));
    ::_exit(127);
  }
  in.read.Reset();
  out.write.Reset();
  err.write.Reset();
  exec_status.write.Reset();

  int exec_errno = 0;
  if (::read(exec_status.read.get(), &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    ::waitpid(pid, nullptr, 0);
    return Error::FromErrno(exec_errno, "execute " + argv[0]);
  }

  SubprocessResult result;
  std::string_view pending_in = options.stdin_data;
  if (pending_in.empty()) {
    in.write.Reset();
  } else {
    ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  if (options.inherit_stdio) {
    out.read.Reset();
    err.read.Reset();
    timed_out = !WaitForExit(pid, options.timeout);
  }
  while (out.read.valid() || err.read.valid()) {
    pollfd fds[3];
    nfds_t n = 0;
    auto add = [&](UniqueFd& fd, short events) {
      if (fd.valid()) {
        fds[n++] = {fd.get(), events, 0};
      }
    };
    add(out.read, POLLIN);
    add(err.read, POLLIN);
    add(in.write, POLLOUT);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int ready = ::poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (in.write.valid() && fds[i].fd == in.write.get()) {
        ssize_t w = ::write(in.write.get(), pending_in.data(), pending_in.size());
        if (w > 0) {
          pending_in.remove_prefix(static_cast<size_t>(w));
        }
        if (w < 0 || pending_in.empty()) {
          in.write.Reset();
        }
        continue;
      }
      UniqueFd& src = out.read.valid() && fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& dst = &src == &out.read ? result.out : result.err;
      char buf[4096];
      ssize_t r = ::read(src.get(), buf, sizeof(buf));
      if (r > 0) {
        dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        src.Reset();
      }
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) {
    return Error(Code::kDeadlineExceeded,
                 argv[0] + " did not finish within " + std::to_string(options.timeout.count()) +
                     " ms and was killed");
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace cricket
