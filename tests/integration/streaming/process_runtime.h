#pragma once

// ProcessRuntime: a StreamingRuntime over plain host processes, standing in for the shim in
// tests and benchmarks. Exec fork/execs the command (a pty with tty); Attach connects to the
// stdio of a "container" process started with StartContainer; PortForwardConnect dials
// 127.0.0.1:<port> inside a registered network namespace.

#include <sys/types.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "cri/streaming/streaming_runtime.h"

namespace cricket::testing {

class ProcessRuntime : public cri::streaming::StreamingRuntime {
 public:
  ProcessRuntime() = default;
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;
  // Kills and reaps the container processes.
  ~ProcessRuntime() override;

  // `netns_path` empty: the caller's own network namespace (a host-network pod).
  void AddSandbox(const std::string& id, const std::string& netns_path);
  // Starts `argv` with piped stdin/stdout as the main process of container `id`.
  Result<void> StartContainer(const std::string& id, const std::vector<std::string>& argv);

  Result<int> RunExecSession(const std::string& container_id, const std::vector<std::string>& cmd,
                             cri::streaming::StreamSet& io) override;
  Result<void> RunAttachSession(const std::string& container_id,
                                cri::streaming::StreamSet& io) override;
  Result<UniqueFd> PortForwardConnect(const std::string& sandbox_id, uint16_t port) override;

 private:
  struct Container {
    pid_t pid = -1;
    UniqueFd stdin_w;
    UniqueFd stdout_r;
  };
  std::mutex mu_;
  std::map<std::string, std::string> sandboxes_;  // Guarded by mu_.
  std::map<std::string, Container> containers_;   // Guarded by mu_.
};

}  // namespace cricket::testing
