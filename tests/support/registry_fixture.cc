#include "tests/support/registry_fixture.h"

#include <cstdlib>
#include <fstream>

namespace cricket::testing {

std::map<std::string, std::string> RegistryFixtureEnv() {
  std::map<std::string, std::string> env;
  const char* state = std::getenv("CRICKET_TEST_REGISTRY_STATE");  // NOLINT(concurrency-mt-unsafe)
  if (state == nullptr) {
    return env;
  }
  std::ifstream in(std::string(state) + "/env");
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  if (!env.empty()) {
    env["STATE"] = state;
  }
  return env;
}

}  // namespace cricket::testing
