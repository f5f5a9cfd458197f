#pragma once

// What a streaming URL stands for: the validated Exec, Attach or PortForward CRI request the
// token was minted for. Plain structs, so this library does not depend on the generated CRI API.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace cricket::cri::streaming {

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct PortForwardRequest {
  std::string sandbox_id;
  std::vector<uint16_t> ports;  // may be empty: the client names ports per stream
};

using StreamingRequest = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

}  // namespace cricket::cri::streaming
