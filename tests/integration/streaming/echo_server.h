#pragma once

// A TCP echo server on 127.0.0.1 for port-forward tests: each connection gets back what it
// sends, and is half-closed when the client half-closes. Optionally listens inside a network
// namespace (the socket is made there; the threads serving it stay in ours).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::testing {

class EchoServer {
 public:
  // `netns_path` empty: the current namespace.
  static Result<std::unique_ptr<EchoServer>> Start(const std::string& netns_path = "");
  ~EchoServer();

  uint16_t port() const { return port_; }

 private:
  EchoServer() = default;
  void AcceptLoop();

  UniqueFd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;  // Guarded by mu_.
};

}  // namespace cricket::testing
