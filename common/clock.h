#pragma once

// Wall-clock time as CRI reports it: nanoseconds since the Unix epoch.

#include <chrono>
#include <cstdint>

namespace cricket {

inline int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cricket
