#pragma once

// A Prometheus histogram that many threads observe into without a lock: one atomic count per
// bucket and an atomic sum. Read() copies it for TextWriter::Histogram; a read concurrent with
// observations may see a sum a few observations apart from the counts, which Prometheus
// tolerates (the counts stay consistent with each other: _count is their total).

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "cri/prometheus_text.h"

namespace cricket::cri::prometheus {

// Latency buckets in seconds: CRI calls run from sub-millisecond (Version, status) to minutes
// (pulls, stops with a grace period).
inline constexpr double kLatencyBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                             1,     2.5,   5,    10,    30,   60,  300};

class AtomicHistogram {
 public:
  // `bounds` ascending upper bounds; the storage they point at must outlive the histogram.
  explicit AtomicHistogram(std::span<const double> bounds)
      : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      counts_[i].store(0, std::memory_order_relaxed);
    }
  }

  void Observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) {
      ++i;
    }
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  HistogramData Read() const {
    HistogramData data;
    data.bounds.assign(bounds_.begin(), bounds_.end());
    data.bucket_counts.resize(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      data.bucket_counts[i] = counts_[i].load(std::memory_order_relaxed);
    }
    data.sum = sum_.load(std::memory_order_relaxed);
    return data;
  }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace cricket::cri::prometheus
