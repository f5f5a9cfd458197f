#pragma once

// One HTTP/1.x exchange over a unix stream socket, for tests of endpoints that answer one
// request per connection and close it (cricketd's /metrics): sends `request` as given and
// returns everything the server wrote until it closed; "" (and a test failure) when the socket
// does not accept.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace cricket::testing {

// Sends `request` on the connected `fd`, reads the whole response (the server closes the
// connection) and closes `fd`.
inline std::string HttpExchangeOnFd(int fd, const std::string& request) {
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[8192];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

inline std::string UnixHttpExchange(const std::string& socket_path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, socket_path.c_str(), sizeof(sun.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) != 0) {
    ADD_FAILURE() << "connect " << socket_path << ": errno " << errno;
    ::close(fd);
    return "";
  }
  return HttpExchangeOnFd(fd, request);
}

}  // namespace cricket::testing
