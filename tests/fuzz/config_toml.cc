// /etc/cricket/config.toml: applied over the defaults as cricketd does at start. A config that
// is accepted must be accepted again in the form Status verbose reports it (ConfigToToml).

#include <cstdint>
#include <string_view>

#include "common/config.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cricket::Config config;
  if (cricket::ApplyConfigToml(text, "fuzz.toml", config).ok()) {
    cricket::Config again;
    FUZZ_CHECK(cricket::ApplyConfigToml(cricket::ConfigToToml(config), "rendered", again).ok());
  }
  return 0;
}
