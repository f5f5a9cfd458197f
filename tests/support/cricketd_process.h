#pragma once

// CricketdProcess: a cricketd started by a test on a fresh temp root/state, with its stderr
// captured to a file. The destructor kills (SIGKILL) and reaps it if the test did not stop it,
// so a failing test leaves no daemon behind.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace cricket::testing {

class CricketdProcess {
 public:
  // `binary` is cricketd; `args` are its flags; `env` ("NAME=value") is added to the test's own
  // environment (e.g. CRICKET_FAILPOINTS for the crash matrix), replacing a variable of that name.
  CricketdProcess(std::string binary, std::vector<std::string> args, std::string stderr_path,
                  std::vector<std::string> env = {});
  CricketdProcess(const CricketdProcess&) = delete;
  CricketdProcess& operator=(const CricketdProcess&) = delete;
  ~CricketdProcess();

  pid_t pid() const { return pid_; }

  // Waits until `socket_path` accepts gRPC connections, or the process exits. True on success.
  bool WaitReady(const std::string& socket_path, std::chrono::milliseconds timeout);
  // Waits for the process to exit; its wait status, or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // What the daemon wrote to stderr so far.
  std::string Stderr() const;

 private:
  std::string stderr_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A channel to a unix socket path.
std::shared_ptr<grpc::Channel> UnixChannel(const std::string& socket_path);

}  // namespace cricket::testing
