#pragma once

// What the checkpoint tests (pod_checkpoint_test.cc, pod_migration_test.cc) share: whether CRIU
// runs here, and the numbers a counter container printed to its CRI log.

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace cricket::testing {

// True when `criu check` passes here (the VM guest), as cricketd will find.
inline bool CriuWorks() {
  return std::system("criu check >/dev/null 2>&1") == 0;  // NOLINT(cert-env33-c): test probe
}

// The N of each "count=N" line of a CRI log (`<time> stdout F count=N`), in order.
inline std::vector<long> CountsInLog(const std::string& log) {
  std::vector<long> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.rfind(" count=");
    if (pos != std::string::npos) {
      out.push_back(std::atol(line.c_str() + pos + 7));
    }
  }
  return out;
}

}  // namespace cricket::testing
