// What CNI plugins print: the result JSON of an ADD (addresses, gateway; versions 0.3.x, 0.4.0,
// 1.x) and the network configuration files in /etc/cni/net.d.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "network/cni_config.h"
#include "network/cni_network.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // cni_network.cc parses a plugin's stdout the same way: no exceptions, discarded on error.
  nlohmann::json result = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!result.is_discarded()) {
    (void)cricket::network::ParseCniResult(result);
  }
  (void)cricket::network::ParseCniConfig(text, "fuzz.conflist");
  return 0;
}
