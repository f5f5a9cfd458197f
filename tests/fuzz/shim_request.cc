// The shim control protocol as cricket-shim reads it: a request body (the JSON of one frame,
// which ReceiveFrame has already parsed) decoded by ParseRequest, as ShimServer does before any
// op runs. Found before it existed: json::value() on a field of the wrong type threw and ended
// the shim.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "shim/control_protocol.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return 0;
  }
  auto request = cricket::shim::ParseRequest(body);
  if (!request.ok()) {
    FUZZ_CHECK(request.error().code() == cricket::Code::kInvalidArgument);
    return 0;
  }
  // What the ops rely on without checking again.
  if (request->op == "kill") {
    FUZZ_CHECK(request->signal >= 1 && request->signal <= 64);
  } else if (request->op == "resize") {
    FUZZ_CHECK(request->width >= 1 && request->width <= 65535);
    FUZZ_CHECK(request->height >= 1 && request->height <= 65535);
  } else if (request->op == "exec") {
    FUZZ_CHECK(request->process.is_object());
  }
  return 0;
}
