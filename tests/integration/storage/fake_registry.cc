#include "tests/integration/storage/fake_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include <nlohmann/json.hpp>

#include "common/files.h"

namespace cricket::storage::testing {
namespace {

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    default:
      return "Status";
  }
}

}  // namespace

FakeRegistry::FakeRegistry(std::string layout, std::string repo, Handler handler)
    : layout_(std::move(layout)), repo_(std::move(repo)), handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  ::listen(listen_fd_, 16);
  thread_ = std::thread([this] { Serve(); });
}

FakeRegistry::~FakeRegistry() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<FakeRequest> FakeRegistry::requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeRegistry::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      HandleConnection(fd);
      ::close(fd);
    }
  }
}

void FakeRegistry::HandleConnection(int fd) {
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  FakeRequest req;
  size_t line_end = data.find("\r\n");
  std::string first = data.substr(0, line_end);
  size_t sp1 = first.find(' ');
  size_t sp2 = first.find(' ', sp1 + 1);
  req.method = first.substr(0, sp1);
  req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end + 2;
  while (true) {
    size_t end = data.find("\r\n", pos);
    if (end == pos || end == std::string::npos) {
      break;
    }
    std::string line = data.substr(pos, end - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    req.headers[name] = value;
    pos = end + 2;
  }
  size_t body_start = data.find("\r\n\r\n") + 4;
  auto length = req.headers.find("content-length");
  size_t want = length == req.headers.end() ? 0 : std::stoul(length->second);
  req.body = data.substr(body_start);
  while (req.body.size() < want) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return;
    }
    req.body.append(buf, static_cast<size_t>(n));
  }
  {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
  }
  FakeResponse resp = Answer(req);
  std::string head =
      "HTTP/1.1 " + std::to_string(resp.status) + " " + ReasonPhrase(resp.status) + "\r\n";
  head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\nConnection: close\r\n";
  for (const std::string& h : resp.headers) {
    head += h + "\r\n";
  }
  head += "\r\n";
  SendAll(fd, head);
  if (req.method == "HEAD") {
    return;
  }
  std::string_view body = resp.body;
  if (resp.drop_after >= 0) {
    body = body.substr(0, static_cast<size_t>(resp.drop_after));
  }
  while (resp.piece_bytes > 0 && body.size() > resp.piece_bytes) {
    SendAll(fd, body.substr(0, resp.piece_bytes));
    body.remove_prefix(resp.piece_bytes);
    std::this_thread::sleep_for(std::chrono::milliseconds(resp.piece_pause_ms));
  }
  SendAll(fd, body);
  if (resp.stall_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(resp.stall_ms));
  }
}

FakeResponse FakeRegistry::Answer(const FakeRequest& req) {
  FakeResponse resp;
  if (handler_ && handler_(req, resp)) {
    return resp;
  }
  std::string prefix = "/v2/" + repo_ + "/";
  resp.status = 404;
  if (req.path == "/v2/") {
    resp.status = 200;
    return resp;
  }
  if (req.path.rfind(prefix, 0) != 0) {
    return resp;
  }
  std::string rest = req.path.substr(prefix.size());
  std::string kind = rest.substr(0, rest.find('/'));
  std::string ref = rest.substr(rest.find('/') + 1);
  std::string media_type = "application/octet-stream";
  if (kind == "manifests" && ref == "latest") {
    auto index =
        nlohmann::json::parse(ReadFile(layout_ + "/index.json").value_or("{}"), nullptr, false);
    ref = index["manifests"][0]["digest"].get<std::string>();
    media_type = index["manifests"][0]["mediaType"].get<std::string>();
  } else if (kind == "manifests") {
    media_type = "application/vnd.oci.image.manifest.v1+json";
  }
  if (ref.rfind("sha256:", 0) != 0) {
    return resp;
  }
  auto blob = ReadFile(layout_ + "/blobs/sha256/" + ref.substr(7));
  if (!blob.ok()) {
    return resp;
  }
  resp.status = 200;
  resp.headers.push_back("Content-Type: " + media_type);
  resp.body = *blob;
  auto range = req.headers.find("range");
  if (kind == "blobs" && range != req.headers.end()) {
    long start = std::stol(range->second.substr(6));  // "bytes=N-"
    resp.status = 206;
    resp.headers.push_back("Content-Range: bytes " + std::to_string(start) + "-" +
                           std::to_string(resp.body.size() - 1) + "/" +
                           std::to_string(resp.body.size()));
    resp.body = resp.body.substr(static_cast<size_t>(start));
  }
  return resp;
}

}  // namespace cricket::storage::testing
