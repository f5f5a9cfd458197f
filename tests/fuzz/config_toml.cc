// /etc/cricket/config.toml: applied over the defaults as cricketd does at start. A config that
// is accepted must be accepted again as ConfigToToml renders it.

#include <cstdint>
#include <string_view>

#include "cri/config.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cricket::cri::Config config;
  if (cricket::cri::ApplyConfigToml(text, "fuzz.toml", config).ok()) {
    cricket::cri::Config again;
    FUZZ_CHECK(
        cricket::cri::ApplyConfigToml(cricket::cri::ConfigToToml(config), "rendered", again).ok());
  }
  return 0;
}
