#include "oci/cli_tty.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

namespace cricket::oci::cli {
namespace {

// Raw mode on a terminal stdin for as long as it lives.
class RawStdin {
 public:
  RawStdin() {
    if (::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~RawStdin() {
    if (active_) {
      ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
  }
  RawStdin(const RawStdin&) = delete;
  RawStdin& operator=(const RawStdin&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Writes all of buf; false when the other side is gone.
bool WriteAll(int fd, const char* buf, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, buf, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    buf += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void ProxyTerminal(int master) {
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
    ::ioctl(master, TIOCSWINSZ, &ws);
  }
  RawStdin raw;
  pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  nfds_t count = 2;
  char buf[4096];
  for (;;) {
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(master, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0 || !WriteAll(STDOUT_FILENO, buf, static_cast<size_t>(n))) {
        return;  // EIO: every process of the container closed the pty
      }
    }
    if (count == 2 && fds[1].revents != 0) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
      if (n <= 0 || !WriteAll(master, buf, static_cast<size_t>(n))) {
        count = 1;  // our stdin ended: keep copying the container's output
      }
    }
  }
}

}  // namespace cricket::oci::cli
