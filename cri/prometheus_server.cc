#include "cri/prometheus_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <string_view>

#include <fmt/format.h>

#include "common/log.h"
#include "cri/prometheus_text.h"

namespace cricket::cri::prometheus {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxRequestBytes = 8192;
constexpr auto kReadTimeout = std::chrono::seconds(5);
constexpr auto kWriteTimeout = std::chrono::seconds(10);

struct Connection {
  UniqueFd fd;
  std::string in;
  std::string out;  // the response, once the request is complete
  size_t written = 0;
  Clock::time_point deadline;
};

std::string Response(std::string_view status, std::string_view content_type, std::string body,
                     bool head, std::string_view extra = "") {
  std::string out = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
      status, content_type, body.size(), extra);
  if (!head) {
    out += body;
  }
  return out;
}

// The response to a complete request head (`head` ends with its blank line).
std::string Answer(std::string_view head, const MetricsServer::Render& render) {
  std::string_view line = head.substr(0, head.find_first_of("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return Response("400 Bad Request", "text/plain", "malformed request\n", false);
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  const bool is_head = method == "HEAD";
  if (method != "GET" && !is_head) {
    return Response("405 Method Not Allowed", "text/plain", "only GET\n", false,
                    "Allow: GET, HEAD\r\n");
  }
  if (target != "/metrics") {
    return Response("404 Not Found", "text/plain", "not found: try /metrics\n", is_head);
  }
  return Response("200 OK", kContentType, render(), is_head);
}

// The request head is complete once its blank line arrived.
bool HeadComplete(const std::string& in) {
  return in.find("\r\n\r\n") != std::string::npos || in.find("\n\n") != std::string::npos;
}

Result<UniqueFd> Listen(const MetricsAddress& address, std::string& bound, uint16_t& port) {
  if (!address.path.empty()) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (address.path.size() >= sizeof(sun.sun_path)) {
      return Error(Code::kInvalidArgument, "metrics socket path too long: " + address.path);
    }
    std::memcpy(sun.sun_path, address.path.c_str(), address.path.size() + 1);
    struct stat st {};
    if (::lstat(address.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return Error(Code::kFailedPrecondition, address.path + " exists and is not a socket");
      }
      ::unlink(address.path.c_str());  // a stale socket of an earlier cricketd
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) {
      return Error::FromErrno(errno, "metrics socket");
    }
    // No instant in which another user could connect: the socket is made 0660.
    mode_t old_umask = ::umask(0117);
    int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof(sun));
    int bind_errno = errno;
    ::umask(old_umask);
    if (rc < 0) {
      return Error::FromErrno(bind_errno, "bind metrics socket " + address.path);
    }
    if (::listen(fd.get(), 64) < 0) {
      return Error::FromErrno(errno, "listen on metrics socket " + address.path);
    }
    bound = "unix://" + address.path;
    return fd;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool v6 = address.host.find(':') != std::string::npos;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(address.port);
    if (::inet_pton(AF_INET6, address.host.c_str(), &sin6->sin6_addr) != 1) {
      return Error(Code::kInvalidArgument, "metrics address " + address.host);
    }
    len = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(address.port);
    if (::inet_pton(AF_INET, address.host.c_str(), &sin->sin_addr) != 1) {
      return Error(Code::kInvalidArgument, "metrics address " + address.host);
    }
    len = sizeof(*sin);
  }
  auto host_port = [&](uint16_t p) {
    return v6 ? fmt::format("[{}]:{}", address.host, p) : fmt::format("{}:{}", address.host, p);
  };
  const std::string where = host_port(address.port);
  UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    return Error::FromErrno(errno, "metrics socket");
  }
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return Error::FromErrno(errno, "bind metrics address " + where);
  }
  if (::listen(fd.get(), 64) < 0) {
    return Error::FromErrno(errno, "listen on metrics address " + where);
  }
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  bound = host_port(port);
  return fd;
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const MetricsAddress& address,
                                                            Render render) {
  std::string bound;
  uint16_t port = 0;
  CR_ASSIGN_OR_RETURN(UniqueFd listener, Listen(address, bound, port));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) {
    if (!address.path.empty()) {
      ::unlink(address.path.c_str());
    }
    return Error::FromErrno(errno, "eventfd for the metrics server");
  }
  std::unique_ptr<MetricsServer> server(
      new MetricsServer(std::move(listener), std::move(wake), address.path, std::move(render)));
  server->bound_ = std::move(bound);
  server->port_ = port;
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

MetricsServer::MetricsServer(UniqueFd listener, UniqueFd wake, std::string unix_path, Render render)
    : listener_(std::move(listener)),
      wake_(std::move(wake)),
      unix_path_(std::move(unix_path)),
      render_(std::move(render)) {}

MetricsServer::~MetricsServer() {
  uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) {
    thread_.join();
  }
  if (!unix_path_.empty()) {
    ::unlink(unix_path_.c_str());
  }
}

void MetricsServer::Run() {
  std::list<Connection> conns;
  std::vector<pollfd> fds;
  // After accept fails (EMFILE, ENFILE) the listener stays readable: rest it a while, not spin.
  Clock::time_point accept_after{};
  for (;;) {
    auto now = Clock::now();
    const bool accepting = now >= accept_after;
    const short listen_events = accepting ? short{POLLIN} : short{0};
    fds.assign({{wake_.get(), POLLIN, 0}, {listener_.get(), listen_events, 0}});
    auto next = accepting ? now + std::chrono::hours(1) : accept_after;
    for (const Connection& c : conns) {
      fds.push_back({c.fd.get(), static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
      next = std::min(next, c.deadline);
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait)) < 0 && errno != EINTR) {
      log::Warn({}, "metrics server stops: poll: errno {}", errno);
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }
    now = Clock::now();
    size_t i = 2;
    for (auto it = conns.begin(); it != conns.end(); ++i) {
      Connection& c = *it;
      bool done = now >= c.deadline || (fds[i].revents & (POLLERR | POLLNVAL)) != 0;
      if (!done && c.out.empty() && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
        char buf[2048];
        ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
        if (n <= 0) {
          done = n == 0 || (errno != EAGAIN && errno != EINTR);
        } else {
          c.in.append(buf, static_cast<size_t>(n));
          if (HeadComplete(c.in)) {
            c.out = Answer(c.in, render_);
            c.deadline = now + kWriteTimeout;
          } else if (c.in.size() > kMaxRequestBytes) {
            c.out = Response("400 Bad Request", "text/plain", "request too large\n", false);
          }
        }
      } else if (!done && !c.out.empty() && (fds[i].revents & (POLLOUT | POLLHUP)) != 0) {
        ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
        if (n < 0) {
          done = errno != EAGAIN && errno != EINTR;
        } else {
          c.written += static_cast<size_t>(n);
          done = c.written == c.out.size();
        }
      }
      it = done ? conns.erase(it) : std::next(it);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (fd.get() < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        accept_after = now + std::chrono::milliseconds(100);
      } else if (fd.get() >= 0 && conns.size() < static_cast<size_t>(kMaxConnections)) {
        conns.push_back({std::move(fd), {}, {}, 0, now + kReadTimeout});
      }
    }
  }
}

}  // namespace cricket::cri::prometheus
