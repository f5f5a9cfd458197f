#pragma once

// Wall-clock time as CRI reports it: nanoseconds since the Unix epoch.

#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace cricket {

inline int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A timespec (a file's mtime, a clock_gettime reading) in nanoseconds.
inline int64_t TimespecNanos(const timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// "2024-05-01T12:00:00Z": RFC 3339 in UTC to the second, for a Unix time in nanoseconds (the OCI
// state's "created", snapshot and checkpoint metadata). Logs use microseconds (common/log.cc).
inline std::string Rfc3339Utc(int64_t unix_nanos) {
  const time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  struct tm utc = {};
  ::gmtime_r(&secs, &utc);
  char buf[32];
  const size_t n = ::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buf, n);
}

}  // namespace cricket
