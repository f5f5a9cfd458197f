#include "cri/prometheus_metrics.h"

namespace cricket::cri::prometheus {
namespace {

// "/runtime.v1.RuntimeService/Version" -> {"runtime.v1.RuntimeService", "Version"}; a name not
// in that shape is all method, no service.
std::pair<std::string_view, std::string_view> SplitMethod(std::string_view full) {
  if (full.starts_with('/')) {
    full.remove_prefix(1);
  }
  size_t slash = full.rfind('/');
  if (slash == std::string_view::npos) {
    return {"", full};
  }
  return {full.substr(0, slash), full.substr(slash + 1)};
}

}  // namespace

std::string_view GrpcCodeName(int code) {
  static constexpr std::string_view kNames[kGrpcCodes] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  return code >= 0 && code < kGrpcCodes ? kNames[code] : "Unknown";
}

CriMetrics::Series& CriMetrics::SeriesFor(std::string_view full_method, int code) {
  if (code < 0 || code >= kGrpcCodes) {
    code = 2;  // UNKNOWN
  }
  std::lock_guard lock(mu_);
  auto it = rpcs_.find(full_method);
  if (it == rpcs_.end()) {
    it = rpcs_.emplace(std::string(full_method), MethodSeries{}).first;
  }
  std::unique_ptr<Series>& slot = it->second[static_cast<size_t>(code)];
  if (slot == nullptr) {
    slot = std::make_unique<Series>();
  }
  return *slot;
}

void CriMetrics::RecordRpc(std::string_view full_method, int code, double seconds) {
  SeriesFor(full_method, code).latency.Observe(seconds);
}

void CriMetrics::RecordImagePull(bool ok, int64_t bytes, double seconds) {
  (ok ? pulls_succeeded_ : pulls_failed_).fetch_add(1, std::memory_order_relaxed);
  if (bytes > 0) {
    pull_bytes_.fetch_add(static_cast<uint64_t>(bytes), std::memory_order_relaxed);
  }
  pull_seconds_.Observe(seconds);
}

void CriMetrics::Write(TextWriter& out) const {
  struct Row {
    Labels labels;
    HistogramData data;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(mu_);
    for (const auto& [method, series] : rpcs_) {
      auto [service, name] = SplitMethod(method);
      for (int code = 0; code < kGrpcCodes; ++code) {
        if (series[static_cast<size_t>(code)] != nullptr) {
          rows.push_back({{{"grpc_service", std::string(service)},
                           {"grpc_method", std::string(name)},
                           {"grpc_code", std::string(GrpcCodeName(code))}},
                          series[static_cast<size_t>(code)]->latency.Read()});
        }
      }
    }
  }
  out.Family("grpc_server_handled_total", "counter",
             "gRPC calls completed on cricketd's socket, by method and status code.");
  for (const Row& row : rows) {
    uint64_t count = 0;
    for (uint64_t n : row.data.bucket_counts) {
      count += n;
    }
    out.Sample("grpc_server_handled_total", row.labels, static_cast<double>(count));
  }
  out.Family("grpc_server_handling_seconds", "histogram",
             "Time from a gRPC call's arrival to its status, by method and status code.");
  for (const Row& row : rows) {
    out.Histogram("grpc_server_handling_seconds", row.labels, row.data);
  }

  out.Family("cricket_image_pulls_total", "counter", "PullImage calls, by result.");
  out.Sample("cricket_image_pulls_total", {{"result", "success"}},
             static_cast<double>(pulls_succeeded_.load(std::memory_order_relaxed)));
  out.Sample("cricket_image_pulls_total", {{"result", "failure"}},
             static_cast<double>(pulls_failed_.load(std::memory_order_relaxed)));
  out.Family("cricket_image_pull_bytes_total", "counter",
             "Size of the images pulled successfully (manifest, config and compressed layers, "
             "also layers that were already present).");
  out.Sample("cricket_image_pull_bytes_total", {},
             static_cast<double>(pull_bytes_.load(std::memory_order_relaxed)));
  out.Family("cricket_image_pull_duration_seconds", "histogram",
             "Time a PullImage took, successful or not.");
  out.Histogram("cricket_image_pull_duration_seconds", {}, pull_seconds_.Read());
}

}  // namespace cricket::cri::prometheus
