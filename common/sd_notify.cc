#include "common/sd_notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "common/unique_fd.h"

namespace cricket {

Result<void> SdNotify(std::string_view state) {
  const char* socket = ::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe): read only
  if (socket == nullptr || *socket == '\0') {
    return Ok();
  }
  return SdNotifyTo(socket, state);
}

Result<void> SdNotifyTo(const std::string& socket, std::string_view state) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((socket[0] != '/' && socket[0] != '@') || socket.size() < 2 ||
      socket.size() >= sizeof(addr.sun_path)) {
    return Error(Code::kInvalidArgument,
                 "NOTIFY_SOCKET \"" + socket + "\" is not an absolute path or @abstract name");
  }
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  if (socket[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counts in the length
  }
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size() +
                                          (socket[0] == '@' ? 0 : 1));
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "socket for NOTIFY_SOCKET");
  }
  // MSG_NOSIGNAL: a vanished systemd must not kill us with SIGPIPE.
  ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), len);
  if (sent < 0) {
    return Error::FromErrno(errno, "notify systemd at " + socket);
  }
  if (static_cast<size_t>(sent) != state.size()) {
    return Error(Code::kInternal, "notify systemd at " + socket + ": short send");
  }
  return Ok();
}

}  // namespace cricket
