#include "cri/streaming/k8s_messages.h"

#include <limits>

#include <nlohmann/json.hpp>

namespace cricket::cri::streaming {

namespace {

std::string CommandText(const std::vector<std::string>& cmd) {
  std::string text = "[";
  for (size_t i = 0; i < cmd.size(); ++i) {
    text += (i ? " " : "") + cmd[i];
  }
  return text + "]";
}

std::string FailureMessage(const ExecOutcome& outcome, const std::vector<std::string>& cmd) {
  if (outcome.exit_code) {
    // kubelet: "command terminated with non-zero exit code: <utilexec.ExitError>".
    return "command terminated with non-zero exit code: error executing command " +
           CommandText(cmd) + ", exit code " + std::to_string(*outcome.exit_code);
  }
  return "error executing command in container: " + outcome.error;
}

bool Succeeded(const ExecOutcome& outcome) { return outcome.exit_code && *outcome.exit_code == 0; }

// The command and errors are arbitrary bytes; json::dump() would throw on invalid UTF-8.
std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string StatusJson(const ExecOutcome& outcome, const std::vector<std::string>& cmd) {
  nlohmann::ordered_json status;
  status["metadata"] = nlohmann::json::object();
  if (Succeeded(outcome)) {
    status["status"] = "Success";
    return Dump(status);
  }
  status["status"] = "Failure";
  status["message"] = FailureMessage(outcome, cmd);
  if (outcome.exit_code) {
    status["reason"] = "NonZeroExitCode";
    nlohmann::ordered_json cause;
    cause["reason"] = "ExitCode";
    cause["message"] = std::to_string(*outcome.exit_code);
    status["details"]["causes"] = nlohmann::ordered_json::array({cause});
  } else {
    status["reason"] = "InternalError";
    nlohmann::ordered_json cause;
    cause["message"] = outcome.error;
    status["details"]["causes"] = nlohmann::ordered_json::array({cause});
    status["code"] = 500;
  }
  return Dump(status);
}

std::string StatusText(const ExecOutcome& outcome, const std::vector<std::string>& cmd) {
  return Succeeded(outcome) ? std::string() : FailureMessage(outcome, cmd);
}

Result<std::vector<TerminalSize>> ResizeDecoder::Feed(std::string_view bytes) {
  std::vector<TerminalSize> sizes;
  for (char c : bytes) {
    if (depth_ == 0 && !in_string_) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        continue;
      }
      if (c != '{') {
        return Error(Code::kInvalidArgument, "resize stream: expected a JSON object");
      }
    }
    pending_.push_back(c);
    if (pending_.size() > 4096) {
      return Error(Code::kInvalidArgument, "resize stream: message too long");
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{') {
      ++depth_;
    } else if (c == '}' && --depth_ == 0) {
      auto json = nlohmann::json::parse(pending_, nullptr, /*allow_exceptions=*/false);
      pending_.clear();
      if (json.is_discarded() || !json.is_object()) {
        return Error(Code::kInvalidArgument, "resize stream: malformed JSON");
      }
      auto dim = [&](const char* key) -> uint16_t {
        auto it = json.find(key);
        if (it == json.end() || !it->is_number_unsigned()) {
          return 0;
        }
        return static_cast<uint16_t>(
            std::min<uint64_t>(it->get<uint64_t>(), std::numeric_limits<uint16_t>::max()));
      };
      sizes.push_back(TerminalSize{dim("Width"), dim("Height")});
    }
  }
  return sizes;
}

}  // namespace cricket::cri::streaming
