#include "oci/console_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace cricket::oci {

Result<UniqueFd> ConnectConsoleSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "socket for the console");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Error(Code::kInvalidArgument, "console socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return Error::FromErrno(errno, "connect console socket " + path);
  }
  return fd;
}

Result<UniqueFd> ConsoleFor(bool terminal, const std::string& socket_path, int connected_fd) {
  if (!terminal) {
    return UniqueFd();
  }
  if (connected_fd >= 0) {
    UniqueFd copy(::fcntl(connected_fd, F_DUPFD_CLOEXEC, 0));
    if (!copy.valid()) {
      return Error::FromErrno(errno, "dup console socket");
    }
    return copy;
  }
  if (socket_path.empty()) {
    return Error(Code::kInvalidArgument, "process.terminal: needs a console socket (--console-socket)");
  }
  return ConnectConsoleSocket(socket_path);
}

Result<UniqueFd> ReceiveFd(int sock) {
  char name[256];
  iovec iov{name, sizeof(name)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "receive console fd");
  }
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) {
    return Error(Code::kInternal, "console socket message carried no fd");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return UniqueFd(fd);
}

}  // namespace cricket::oci
