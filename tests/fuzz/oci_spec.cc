// An OCI bundle's config.json: parsed, made absolute and validated as `cricket-runtime create`
// does; the process object alone as `exec --process` reads it. A spec that parses must survive
// its own serialisation (what the shim and `state` write back).

#include <cstdint>
#include <string_view>

#include "oci/spec_json.h"
#include "oci/spec_validate.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cricket::oci;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto spec = ParseSpec(text); spec.ok()) {
    FUZZ_CHECK(ParseSpec(SpecToJson(*spec)).ok());
    ResolveBundlePaths(*spec, "/run/fuzz-bundle");
    (void)ValidateSpec(*spec);
  }
  if (auto process = ParseProcess(text); process.ok()) {
    FUZZ_CHECK(ParseProcess(ProcessToJson(*process)).ok());
  }
  return 0;
}
