#pragma once

// CheckExposition: our own checker of the Prometheus text exposition format 0.0.4, line by
// line, for the unit tests of the writer and the scrape of a real cricketd (promtool is not on
// every build machine). It checks what the format requires and what Cricket promises on top:
//  - every line is `# HELP name text`, `# TYPE name type` or a sample
//    `name{label="value",...} value [timestamp]`; no blank lines; the text ends in a newline;
//  - metric and label names match the format's patterns, label values use only the escapes
//    \\ \" \n, a label is not repeated in a sample, `__` label names are reserved;
//  - a family's TYPE comes before its samples, once; its HELP at most once; its samples are
//    contiguous and named after it (counters end in _total; a histogram's are _bucket with
//    `le`, _sum and _count); no series appears twice;
//  - values parse (+Inf, -Inf, NaN allowed); counters are >= 0;
//  - each histogram series has ascending `le` ending in +Inf, non-decreasing cumulative
//    counts, and a _count equal to its +Inf bucket and a _sum.
// Returns "" when all holds, else the first problem with its line number.

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cricket::testing {

namespace prometheus_check_internal {

inline bool IsMetricName(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

inline bool IsLabelName(std::string_view s) {
  return IsMetricName(s) && s.find(':') == std::string_view::npos;
}

inline std::optional<double> ParseValue(std::string_view s) {
  if (s == "+Inf") {
    return INFINITY;
  }
  if (s == "-Inf") {
    return -INFINITY;
  }
  if (s == "NaN") {
    return NAN;
  }
  if (s.empty()) {
    return std::nullopt;
  }
  std::string text(s);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || text.find_first_of("iInN") != std::string::npos) {
    return std::nullopt;  // strtod also takes "inf" and "nan", which the format spells otherwise
  }
  return v;
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string label_text;  // as written, for duplicate detection
  double value = 0;
};

// Parses one sample line; "" or the problem.
inline std::string ParseSample(std::string_view line, Sample& out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') {
    ++i;
  }
  out.name = std::string(line.substr(0, i));
  if (!IsMetricName(out.name)) {
    return "bad metric name \"" + out.name + "\"";
  }
  if (i < line.size() && line[i] == '{') {
    size_t open = i++;
    while (true) {
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      size_t eq = line.find('=', i);
      if (eq == std::string_view::npos) {
        return "label without '='";
      }
      std::string key(line.substr(i, eq - i));
      if (!IsLabelName(key) || key.starts_with("__")) {
        return "bad label name \"" + key + "\"";
      }
      i = eq + 1;
      if (i >= line.size() || line[i] != '"') {
        return "label value of " + key + " not quoted";
      }
      ++i;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) {
            return "dangling escape";
          }
          char e = line[i++];
          if (e != '\\' && e != '"' && e != 'n') {
            return std::string("bad escape \\") + e + " in label " + key;
          }
          value += e == 'n' ? '\n' : e;
        } else if (c == '\n') {
          return "raw newline in label value";
        } else {
          value += c;
        }
      }
      if (!closed) {
        return "unterminated label value of " + key;
      }
      if (!out.labels.emplace(key, value).second) {
        return "label " + key + " repeated";
      }
      if (i < line.size() && line[i] == ',') {
        ++i;
      } else if (i >= line.size() || line[i] != '}') {
        return "expected ',' or '}' after label " + key;
      }
    }
    out.label_text = std::string(line.substr(open, i - open));
  }
  if (i >= line.size() || line[i] != ' ') {
    return "expected a space before the value";
  }
  std::string_view rest = line.substr(i + 1);
  size_t space = rest.find(' ');
  auto value = ParseValue(rest.substr(0, space));
  if (!value) {
    return "bad value \"" + std::string(rest.substr(0, space)) + "\"";
  }
  out.value = *value;
  if (space != std::string_view::npos) {
    std::string_view ts = rest.substr(space + 1);
    if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
      return "bad timestamp \"" + std::string(ts) + "\"";
    }
  }
  return "";
}

struct HistogramSeries {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative count
  std::optional<double> count;
  std::optional<double> sum;
};

}  // namespace prometheus_check_internal

inline std::string CheckExposition(std::string_view text) {
  using namespace prometheus_check_internal;
  if (text.empty()) {
    return "empty exposition";
  }
  if (text.back() != '\n') {
    return "does not end in a newline";
  }
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose samples ended
  std::set<std::string> series;
  std::string current;                                // the family of the latest TYPE
  std::map<std::string, HistogramSeries> histograms;  // family + labels without le
  int number = 0;
  size_t pos = 0;
  auto where = [&](const std::string& what) {
    return "line " + std::to_string(number) + ": " + what;
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++number;
    if (line.empty()) {
      return where("blank line");
    }
    if (line.starts_with("#")) {
      std::istringstream in{std::string(line)};
      std::string hash, kind, name, rest;
      in >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) {
        continue;  // a plain comment
      }
      if (!IsMetricName(name)) {
        return where("bad metric name in " + kind + ": \"" + name + "\"");
      }
      std::string prefix = "# " + kind + " " + name;
      std::string_view tail = line.substr(std::min(line.size(), prefix.size()));
      if (!tail.empty() && tail.front() != ' ') {
        return where("expected a space after the name");
      }
      tail = tail.empty() ? tail : tail.substr(1);
      if (kind == "HELP") {
        if (!helped.insert(name).second) {
          return where("second HELP for " + name);
        }
        for (size_t i = 0; i < tail.size(); ++i) {
          if (tail[i] == '\\' &&
              (i + 1 >= tail.size() || (tail[i + 1] != '\\' && tail[i + 1] != 'n'))) {
            return where("bad escape in HELP of " + name);
          }
          if (tail[i] == '\\') {
            ++i;
          }
        }
        continue;
      }
      std::string type(tail);
      if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
          type != "untyped") {
        return where("bad type \"" + type + "\" for " + name);
      }
      if (types.contains(name) || finished.contains(name)) {
        return where("second TYPE for " + name);
      }
      if (type == "counter" && !name.ends_with("_total")) {
        return where("counter " + name + " does not end in _total");
      }
      if (!current.empty()) {
        finished.insert(current);
      }
      types[name] = type;
      current = name;
      continue;
    }
    Sample s;
    if (std::string problem = ParseSample(line, s); !problem.empty()) {
      return where(problem);
    }
    if (current.empty()) {
      return where("sample " + s.name + " before any TYPE");
    }
    const std::string& type = types[current];
    std::string suffix;
    if (s.name == current) {
      if (type == "histogram") {
        return where("histogram sample " + s.name + " without _bucket/_sum/_count");
      }
    } else if (type == "histogram" && s.name.starts_with(current) &&
               (s.name.substr(current.size()) == "_bucket" ||
                s.name.substr(current.size()) == "_sum" ||
                s.name.substr(current.size()) == "_count")) {
      suffix = s.name.substr(current.size());
    } else {
      return where("sample " + s.name + " is not of family " + current +
                   (finished.contains(s.name) ? " (its family is not contiguous)" : ""));
    }
    if (!series.insert(s.name + s.label_text).second) {
      return where("series repeated: " + s.name + s.label_text);
    }
    if ((type == "counter" || suffix == "_count" || suffix == "_bucket") && !(s.value >= 0)) {
      return where("negative or NaN count in " + s.name);
    }
    if (type != "histogram") {
      if (s.labels.contains("le")) {
        return where("le label outside a histogram");
      }
      continue;
    }
    auto labels = s.labels;
    std::optional<double> le;
    if (suffix == "_bucket") {
      auto it = labels.find("le");
      if (it == labels.end()) {
        return where("bucket without le");
      }
      le = ParseValue(it->second);
      if (!le || std::isnan(*le)) {
        return where("bad le \"" + it->second + "\"");
      }
      labels.erase(it);
    } else if (labels.contains("le")) {
      return where("le on " + s.name);
    }
    std::string key = current;
    for (const auto& [k, v] : labels) {
      key += "|" + k + "=" + v;
    }
    HistogramSeries& h = histograms[key];
    if (suffix == "_bucket") {
      if (h.count || h.sum) {
        return where("bucket after _sum/_count of " + key);
      }
      if (!h.buckets.empty() && !(*le > h.buckets.back().first)) {
        return where("le not ascending in " + key);
      }
      if (!h.buckets.empty() && s.value < h.buckets.back().second) {
        return where("cumulative bucket count decreases in " + key);
      }
      h.buckets.emplace_back(*le, s.value);
    } else if (suffix == "_sum") {
      h.sum = s.value;
    } else {
      h.count = s.value;
    }
  }
  for (const auto& [key, h] : histograms) {
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      return "histogram " + key + " has no le=\"+Inf\" bucket";
    }
    if (!h.count || !h.sum) {
      return "histogram " + key + " lacks _count or _sum";
    }
    if (*h.count != h.buckets.back().second) {
      return "histogram " + key + ": _count differs from the +Inf bucket";
    }
  }
  return "";
}

}  // namespace cricket::testing
