#pragma once

// The small JSON messages of the Kubernetes remote command protocol
// (k8s.io/apimachinery/pkg/util/remotecommand and kubelet's cri/streaming/remotecommand).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "cri/streaming/streaming_runtime.h"

namespace cricket::cri::streaming {

// How an exec ended, as the v4 error stream reports it.
struct ExecOutcome {
  std::optional<int> exit_code;  // set when the process ran
  std::string error;             // set when it could not run (then exit_code is empty)
};

// v4+: a metav1.Status. Success: {"metadata":{},"status":"Success"}. A non-zero exit:
// status Failure, reason NonZeroExitCode, details.causes [{reason: ExitCode, message: "<n>"}],
// which kubectl turns into its own exit code. Other errors: Failure, reason InternalError, code
// 500.
std::string StatusJson(const ExecOutcome& outcome, const std::vector<std::string>& cmd);

// v1-v3: plain text, and nothing at all on success.
std::string StatusText(const ExecOutcome& outcome, const std::vector<std::string>& cmd);

// Splits a stream of concatenated JSON objects (the resize stream is a json.Encoder output)
// into TerminalSizes as bytes arrive. Malformed input is an error; the caller drops the stream.
class ResizeDecoder {
 public:
  Result<std::vector<TerminalSize>> Feed(std::string_view bytes);

 private:
  std::string pending_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace cricket::cri::streaming
