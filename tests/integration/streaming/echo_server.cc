#include "tests/integration/streaming/echo_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>

#include "network/netns.h"

namespace cricket::testing {

Result<std::unique_ptr<EchoServer>> EchoServer::Start(const std::string& netns_path) {
  std::unique_ptr<EchoServer> server(new EchoServer());
  auto listen = [&]() -> Result<void> {
    server->listener_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0 ||
        ::listen(server->listener_.get(), 128) < 0 ||
        ::getsockname(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
      return Error::FromErrno(errno, "echo server listen");
    }
    server->port_ = ntohs(addr.sin_port);
    return Ok();
  };
  if (netns_path.empty()) {
    CR_RETURN_IF_ERROR(listen());
  } else {
    CR_ASSIGN_OR_RETURN(UniqueFd ns, network::OpenNetns(netns_path));
    CR_RETURN_IF_ERROR(network::RunInNetns(ns.get(), listen));
  }
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

EchoServer::~EchoServer() {
  stopping_ = true;
  ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  std::lock_guard lock(mu_);
  for (std::thread& t : workers_) {
    t.join();
  }
}

void EchoServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      return;
    }
    std::lock_guard lock(mu_);
    workers_.emplace_back([fd] {
      UniqueFd conn(fd);
      char buf[64 * 1024];
      for (;;) {
        ssize_t n = ::read(conn.get(), buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        for (ssize_t off = 0; off < n;) {
          ssize_t w = ::send(conn.get(), buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            return;
          }
          off += w;
        }
      }
      ::shutdown(conn.get(), SHUT_WR);
    });
  }
}

}  // namespace cricket::testing
