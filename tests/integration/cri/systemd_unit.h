#pragma once

// What systemd says about a unit, for the tests that run cricketd with the systemd cgroup driver
// (systemd_driver_test.cc, pod_node_v2_test.cc in hack/vm's systemd guest).

#include <array>
#include <cstdio>
#include <string>

namespace cricket::testing {

// `systemctl show -p <property> --value <unit>`, trailing newline dropped; "" when systemctl
// cannot run.
inline std::string UnitProperty(const std::string& unit, const std::string& property) {
  std::string cmd = "systemctl show -p " + property + " --value " + unit + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): test helper, fixed command
  if (p == nullptr) {
    return "";
  }
  std::string out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) {
    out += buf.data();
  }
  ::pclose(p);
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

}  // namespace cricket::testing
