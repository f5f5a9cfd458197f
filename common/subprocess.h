#pragma once

// Runs a helper program (iptables, a CNI plugin) to completion: argv, an optional environment,
// bytes on stdin, stdout and stderr captured, a timeout after which it is killed.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket {

struct SubprocessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

struct SubprocessOptions {
  // Replaces the environment when set ("NAME=value" entries); inherited otherwise.
  std::optional<std::vector<std::string>> env;
  std::string stdin_data;
  std::chrono::milliseconds timeout{30000};
  // The child keeps this process's stdin, stdout and stderr: nothing is captured and
  // stdin_data must be empty. For a program whose own children must keep them (an OCI
  // runtime's `create`, whose container init inherits its stdio).
  bool inherit_stdio = false;
  // Executes this fd (execveat AT_EMPTY_PATH; a SealedExe of common/sealed_exe.h) instead of
  // the file argv[0] names, which is then only the program's name. It may be CLOEXEC.
  int exec_fd = -1;
};

// kNotFound when argv[0] cannot be executed (ENOENT), kDeadlineExceeded on timeout (the child
// is killed and reaped). A non-zero exit is not an error here: callers read exit_code.
Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const SubprocessOptions& options = {});

}  // namespace cricket
