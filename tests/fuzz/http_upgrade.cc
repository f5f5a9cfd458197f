// The HTTP/1.1 request that opens a streaming connection (exec, attach, port-forward): request
// line, headers, token in the path, protocol negotiation, the upgrade to SPDY/3.1 or WebSocket
// and whatever follows it, through the server's real connection handler.

#include <cstdint>
#include <string>

#include "tests/fuzz/streaming_connection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cricket::fuzz::ServeOneConnection(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
