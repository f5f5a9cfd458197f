#pragma once

// TCP probes for network tests: a listener bound inside a namespace and a one-shot echo round
// trip from another namespace (or the node), with 3 s timeouts so a broken path fails fast.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "network/netns.h"

namespace cricket::network {

// A TCP listener bound in a given namespace (the socket stays in the namespace it was made in).
inline UniqueFd Listen(int netns_fd, const std::string& ip, int port) {
  UniqueFd fd;
  auto make = [&]() -> Result<void> {
    fd = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 ||
        ::listen(fd.get(), 16) < 0) {
      return Error::FromErrno(errno, "listen on " + ip);
    }
    return Ok();
  };
  auto made = netns_fd >= 0 ? RunInNetns(netns_fd, make) : make();
  EXPECT_TRUE(made.ok()) << made.error().ToString();
  return fd;
}

// Connects from a namespace (-1: the node) to ip:port, sends `payload`; the listener echoes
// what it accepted. Returns what came back, or the error.
inline std::string RoundTrip(int from_netns, const UniqueFd& listener, const std::string& ip, int port,
                      const std::string& payload) {
  std::thread server([&] {
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    char buf[65536];
    ssize_t n = ::read(conn.get(), buf, sizeof(buf));
    if (n > 0) {
      (void)!::write(conn.get(), buf, static_cast<size_t>(n));
    }
  });
  std::string reply;
  auto client = [&]() -> Result<void> {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{.tv_sec = 3, .tv_usec = 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      return Error::FromErrno(errno, "connect to " + ip + ":" + std::to_string(port));
    }
    (void)!::write(fd.get(), payload.data(), payload.size());
    char buf[65536];
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n > 0) {
      reply.assign(buf, static_cast<size_t>(n));
    }
    return Ok();
  };
  auto done = from_netns >= 0 ? RunInNetns(from_netns, client) : client();
  if (!done.ok()) {
    // Unblock the server thread.
    ::shutdown(listener.get(), SHUT_RDWR);
    server.join();
    return "error: " + done.error().message();
  }
  server.join();
  return reply;
}

}  // namespace cricket::network
