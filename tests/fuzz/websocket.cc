// WebSocket frames of the Kubernetes channel protocol (v4/v5.channel.k8s.io) after a valid
// upgrade: the input is the client's byte stream after the handshake, first byte choosing exec
// (v5, stdin) or port-forward (v4, two channels). Client frames must be masked; the seeds use
// the mask 00 00 00 00 so payloads stay readable.

#include <cstdint>
#include <string>

#include "tests/fuzz/streaming_connection.h"

namespace {

std::string Upgrade(const char* path, const char* protocol) {
  return std::string("GET ") + path +
         " HTTP/1.1\r\nHost: node\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Protocol: " +
         protocol + "\r\n\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string bytes = data[0] % 2 == 0
                          ? Upgrade("/exec/{exec}", "v5.channel.k8s.io")
                          : Upgrade("/portforward/{portforward}?port=80", "v4.channel.k8s.io");
  bytes.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  cricket::fuzz::ServeOneConnection(std::move(bytes));
  return 0;
}
