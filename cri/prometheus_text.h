#pragma once

// The Prometheus text exposition format, version 0.0.4 (what `GET /metrics` answers): one
// family is `# HELP`, `# TYPE`, then its samples, each `name{label="value",...} value`.
// Label values escape `\`, `"` and newline; HELP text escapes `\` and newline. Counters are
// named with `_total` by the caller; a histogram is its cumulative `_bucket{le="..."}` series
// ending in `le="+Inf"`, then `_sum` and `_count`.
//
// Written by hand, without a client library: the format is small and cricketd links static.
// Not thread-safe; one writer per scrape.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cricket::cri::prometheus {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A sample's labels in the order written. Names must match [a-zA-Z_][a-zA-Z0-9_]*.
using Labels = std::vector<std::pair<std::string_view, std::string>>;

// A histogram as read at one instant: `bucket_counts[i]` observations <= `bounds[i]` (not
// cumulative), `bucket_counts.back()` those above the last bound; count is their total.
struct HistogramData {
  std::vector<double> bounds;
  std::vector<uint64_t> bucket_counts;  // bounds.size() + 1
  double sum = 0;
};

// `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
std::string EscapeLabelValue(std::string_view value);
// `\` -> `\\`, newline -> `\n`.
std::string EscapeHelp(std::string_view help);
// An integer-valued double without a fraction ("3"), others shortest round-trip ("0.25"),
// and "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

class TextWriter {
 public:
  // `type` is "counter", "gauge" or "histogram"; the family's samples follow.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  // `name`_bucket (cumulative, one per bound and +Inf), `name`_sum and `name`_count.
  void Histogram(std::string_view name, const Labels& labels, const HistogramData& data);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void AppendLabels(const Labels& labels, std::string_view le);
  std::string out_;
};

}  // namespace cricket::cri::prometheus
