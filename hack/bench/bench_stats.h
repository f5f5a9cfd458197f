#pragma once

// Figures the benchmarks print: milliseconds of a steady-clock span, and the nearest-rank
// percentile of samples (0 when there are none).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace cricket::bench {

inline double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace cricket::bench
