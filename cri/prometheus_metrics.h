#pragma once

// CriMetrics: the counters cricketd keeps for `GET /metrics` (cri/prometheus_server.h) — every
// gRPC call on its socket by method and status code, and image pulls. Recording is an atomic
// add (a short lock only on the first call of a method); nothing here exists when
// [metrics] address is unset.
//
// Names follow go-grpc-prometheus, which dashboards for containerd and CRI-O already use:
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_code}      counter
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_code}   histogram
// and cricket_image_pulls_total{result}, cricket_image_pull_bytes_total,
// cricket_image_pull_duration_seconds (histogram).
//
// Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cri/prometheus_histogram.h"
#include "cri/prometheus_text.h"

namespace cricket::cri::prometheus {

// gRPC's code numbers 0..16.
inline constexpr int kGrpcCodes = 17;

// The Go name of a gRPC code ("OK", "NotFound", "Unimplemented"), as go-grpc-prometheus labels.
std::string_view GrpcCodeName(int code);

class CriMetrics {
 public:
  // One finished call: `full_method` as gRPC names it ("/runtime.v1.RuntimeService/Version"),
  // its status code, its time from the request's arrival to the status.
  void RecordRpc(std::string_view full_method, int code, double seconds);
  // One PullImage: `bytes` is the pulled image's size (manifest, config and compressed layers,
  // also those already present), 0 for a failed pull.
  void RecordImagePull(bool ok, int64_t bytes, double seconds);

  void Write(TextWriter& out) const;

 private:
  struct Series {
    AtomicHistogram latency{kLatencyBuckets};
  };
  using MethodSeries = std::array<std::unique_ptr<Series>, kGrpcCodes>;

  Series& SeriesFor(std::string_view full_method, int code);

  mutable std::mutex mu_;
  // Keyed by the full method; a slot per code, made on its first call. A Series is never
  // removed, so a reference to it stays valid without the lock.
  std::map<std::string, MethodSeries, std::less<>> rpcs_;  // Guarded by mu_.

  std::atomic<uint64_t> pulls_succeeded_{0};
  std::atomic<uint64_t> pulls_failed_{0};
  std::atomic<uint64_t> pull_bytes_{0};
  AtomicHistogram pull_seconds_{kPullBuckets};

  static constexpr double kPullBuckets[] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
};

}  // namespace cricket::cri::prometheus
