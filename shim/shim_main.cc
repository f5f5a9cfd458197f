// cricket-shim: the monitor of one container (see shim/shim_server.h).
//
// Started by cricketd, which waits for this first process to exit: it forks the real shim,
// which leaves the session (so it outlives cricketd), creates the container and reports "ok"
// or the error back through a pipe. The first process prints that and exits 0 or 1.

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "common/failpoint.h"
#include "common/files.h"
#include "common/log.h"
#include "common/syscalls.h"
#include "shim/shim_options.h"
#include "shim/shim_server.h"

namespace {

// The parent: relays the child's verdict, one line. (Reading to EOF would hang: the container's
// init, waiting for `start`, still holds a copy of the pipe until it execs.) The child's pidfd
// ends the wait when it dies before its verdict, as it may after the runtime made the init
// (crashed, killed): cricketd then learns at once, not at its launch timeout.
int AwaitReady(int ready_fd, pid_t child) {
  std::string message;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  const nfds_t watched = pidfd >= 0 ? 2 : 1;
  bool child_gone = false;
  for (;;) {
    if (!child_gone) {
      pollfd fds[2] = {{ready_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
      if (::poll(fds, watched, -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        break;
      }
      if (watched == 2 && fds[1].revents != 0) {
        child_gone = true;  // read what it wrote before it died, without blocking
        ::fcntl(ready_fd, F_SETFL, O_NONBLOCK);
      } else if (fds[0].revents == 0) {
        continue;
      }
    }
    char c = 0;
    ssize_t n = ::read(ready_fd, &c, 1);
    if (n == 1) {
      if (c == '\n') {
        break;
      }
      message += c;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    break;  // EOF, or all that a child that is gone wrote
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  if (message == "ok") {
    return 0;
  }
  std::fprintf(stderr, "%s\n",
               message.empty() ? "cricket-shim died before it was ready" : message.c_str());
  return 1;
}

void Report(int ready_fd, std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  message += '\n';
  (void)!::write(ready_fd, message.data(), message.size());
  ::close(ready_fd);
}

// Detaches from cricketd's stdio: cricketd reads our first process's output to EOF.
void RedirectStdio(const std::string& state_dir) {
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // NOLINT
  int log_fd = ::open((state_dir + "/shim.log").c_str(),    // NOLINT
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ::dup2(null_fd, 0);
  ::dup2(log_fd >= 0 ? log_fd : null_fd, 1);
  ::dup2(log_fd >= 0 ? log_fd : null_fd, 2);
  ::close(null_fd);
  if (log_fd >= 0) {
    ::close(log_fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto options = cricket::shim::ParseShimArgs({argv + 1, argv + argc});
  if (!options.ok()) {
    std::fprintf(stderr, "cricket-shim: %s\n", options.error().message().c_str());
    return 2;
  }
  if (auto failpoints = options->failpoints ? cricket::ConfigureFailPointsFromEnv() : cricket::Ok();
      !failpoints.ok()) {
    std::fprintf(stderr, "cricket-shim: %s\n", failpoints.error().message().c_str());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // One malloc arena: the log thread would otherwise get an arena of its own (up to 64 MiB of
  // address space, and its pages) for the few strings it frees.
  ::mallopt(M_ARENA_MAX, 1);
  // SIGCHLD arrives through the server's signalfd; blocked before any thread exists.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    std::perror("cricket-shim: pipe");
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("cricket-shim: fork");
    return 1;
  }
  if (pid > 0) {
    ::close(ready[1]);
    return AwaitReady(ready[0], pid);
  }
  ::close(ready[0]);
  ::setsid();
  // Orphans of the container (and exec'd processes) are reparented to us, not to init.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (auto made = cricket::MakeDirs(options->state_dir, 0700); !made.ok()) {
    Report(ready[1], made.error().message());
    return 1;
  }
  RedirectStdio(options->state_dir);
  // Who to signal if the shim itself must be stopped (cricketd and tests stop it by pid).
  (void)cricket::WriteFileAtomic(options->state_dir + "/shim.pid", std::to_string(::getpid()),
                                 0600);
  cricket::log::Init(cricket::log::Level::kInfo, cricket::log::Format::kText);
  // fd 2 is lent to containers and exec'd processes while they start: log by name instead.
  (void)cricket::log::RedirectToFile(options->state_dir + "/shim.log");

  cricket::LinuxSyscalls sys;
  auto server = cricket::shim::ShimServer::Create(*options, sys);
  if (!server.ok()) {
    Report(ready[1], server.error().ToString());
    return 1;
  }
  Report(ready[1], "ok");
  (*server)->Run();
  return 0;
}
