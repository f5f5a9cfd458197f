#pragma once

// What hack/test-registry/start wrote for the tests that need its registries: KEY=VALUE lines
// of <state>/env, where <state> is $CRICKET_TEST_REGISTRY_STATE (set by the CTest fixture).

#include <map>
#include <string>

namespace cricket::testing {

// Empty when the fixture is not set up (the test should then skip); "STATE" names the dir.
std::map<std::string, std::string> RegistryFixtureEnv();

}  // namespace cricket::testing
