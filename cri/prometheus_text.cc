#include "cri/prometheus_text.h"

#include <cmath>

#include <fmt/format.h>

namespace cricket::cri::prometheus {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Integers (counts, bytes) print without an exponent up to 2^53, where doubles stay exact.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

void TextWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(help), name, type);
}

void TextWriter::AppendLabels(const Labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) {
    return;
  }
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    out_ += first ? "" : ",";
    first = false;
    out_ += fmt::format("{}=\"{}\"", key, EscapeLabelValue(value));
  }
  if (!le.empty()) {
    out_ += fmt::format("{}le=\"{}\"", first ? "" : ",", le);
  }
  out_ += '}';
}

void TextWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  AppendLabels(labels, "");
  out_ += ' ';
  out_ += FormatValue(value);
  out_ += '\n';
}

void TextWriter::Histogram(std::string_view name, const Labels& labels, const HistogramData& data) {
  const std::string bucket = fmt::format("{}_bucket", name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < data.bucket_counts.size(); ++i) {
    cumulative += data.bucket_counts[i];
    out_ += bucket;
    AppendLabels(labels, i < data.bounds.size() ? FormatValue(data.bounds[i]) : "+Inf");
    out_ += fmt::format(" {}\n", cumulative);
  }
  Sample(fmt::format("{}_sum", name), labels, data.sum);
  Sample(fmt::format("{}_count", name), labels, static_cast<double>(cumulative));
}

}  // namespace cricket::cri::prometheus
