// The terminal part of the container's init (see child_init.h): a pty from the container's own
// devpts whose master goes to the --console-socket peer with SCM_RIGHTS, as runc does.
// Async-signal-safe only.

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "oci/child_init.h"

namespace cricket::oci::child_internal {
namespace {

bool SendFd(int sock, int fd) {
  static constexpr char kName[] = "/dev/ptmx";
  char name[sizeof(kName)];
  std::memcpy(name, kName, sizeof(kName));
  iovec iov{name, sizeof(kName) - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0;
}

}  // namespace

bool SetupConsole(const ChildPlan& plan, ChildReport& report) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (master < 0) {
    return Fail(report, ChildStep::kConsole, 0);
  }
  int unlock = 0;
  unsigned int number = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0 || ::ioctl(master, TIOCGPTN, &number) < 0) {
    return Fail(report, ChildStep::kConsole, 1);
  }
  char path[32] = "/dev/pts/";
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0 && n < 11);
  char* out = path + 9;
  while (n > 0) {
    *out++ = digits[--n];
  }
  *out = '\0';
  int slave = ::open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (slave < 0) {
    return Fail(report, ChildStep::kConsole, 2);
  }
  if (plan.console_rows != 0 || plan.console_cols != 0) {
    winsize ws{plan.console_rows, plan.console_cols, 0, 0};
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (plan.console_fd < 0 || !SendFd(plan.console_fd, master)) {
    if (plan.console_fd < 0) {
      errno = EBADF;
    }
    return Fail(report, ChildStep::kConsole, 3);
  }
  ::close(master);
  ::close(plan.console_fd);
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(slave, fd) < 0) {
      return Fail(report, ChildStep::kConsole, 4);
    }
  }
  if (::ioctl(0, TIOCSCTTY, 0) < 0) {
    return Fail(report, ChildStep::kConsole, 5);
  }
  ::close(slave);
  return true;
}

}  // namespace cricket::oci::child_internal
