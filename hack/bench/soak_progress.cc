#include "hack/bench/soak_progress.h"

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/files.h"
#include "hack/bench/bench_stats.h"

namespace cricket::bench {
namespace {

namespace fs = std::filesystem;

// The KiB figure of a "Name:   1234 kB" line of /proc/<pid>/status, or -1.
long StatusKib(const std::string& status, const char* name) {
  const std::string key = std::string("\n") + name + ":";
  size_t at = status.find(key);
  return at == std::string::npos ? -1 : std::stol(status.substr(at + key.size()));
}

long CountEntries(const std::string& dir) {
  std::error_code ec;
  return std::distance(fs::directory_iterator(dir, ec), fs::directory_iterator());
}

}  // namespace

ProcessFigures ReadProcessFigures(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  ProcessFigures out;
  if (auto status = ReadFile(proc + "/status"); status.ok()) {
    out.rss_kib = StatusKib(*status, "VmRSS");
    out.rss_anon_kib = StatusKib(*status, "RssAnon");
    out.rss_file_kib = StatusKib(*status, "RssFile");
  }
  out.fds = CountEntries(proc + "/fd");
  out.threads = CountEntries(proc + "/task");
  return out;
}

nlohmann::json ToJson(const ProcessFigures& f) {
  return {{"rss_kib", f.rss_kib},
          {"rss_anon_kib", f.rss_anon_kib},
          {"rss_file_kib", f.rss_file_kib},
          {"fds", f.fds},
          {"threads", f.threads}};
}

nlohmann::json SoakProgress::CycleDone(int index, pid_t daemon,
                                       const std::vector<double>& pod_start_ms, bool partial) {
  // Tenth d (0-based) ends with cycle (d + 1) * cycles / 10; with fewer than ten cycles some
  // tenths are empty and are skipped.
  const int done = index + 1;
  int ended = tenths_done_;
  while (ended < 10 && (ended + 1) * cycles_ / 10 <= done) {
    ++ended;
  }
  if (ended == tenths_done_ && !partial) {
    return nullptr;
  }
  tenths_done_ = ended;
  std::vector<double> slice(pod_start_ms.begin() + static_cast<long>(starts_seen_),
                            pod_start_ms.end());
  starts_seen_ = pod_start_ms.size();
  nlohmann::json line = {{"tenth", static_cast<int>(tenths_.size()) + 1},
                         {"cycle", done},
                         {"cricketd", ToJson(ReadProcessFigures(daemon))},
                         {"pod_starts", slice.size()},
                         {"p50_ms", Percentile(slice, 0.5)},
                         {"p99_ms", Percentile(slice, 0.99)}};
  if (partial) {
    line["partial"] = true;
  }
  tenths_.push_back(line);
  return line;
}

nlohmann::json SoakProgress::Check(long rss_bound_kib, long fd_bound) const {
  // Warm-up: the first tenth, and at least the first kWarmupCycles cycles (every kind of cycle
  // has run a dozen times by then; a short run's first tenth is still climbing).
  constexpr int kWarmupCycles = 50;
  size_t warm_at = 0;
  while (warm_at < tenths_.size() && tenths_[warm_at]["cycle"].get<int>() < kWarmupCycles) {
    ++warm_at;
  }
  nlohmann::json out = {
      {"warmup_cycles", warm_at < tenths_.size() ? tenths_[warm_at]["cycle"].get<int>() : 0},
      {"rss_bound_kib", rss_bound_kib},
      {"fd_bound", fd_bound}};
  if (warm_at + 1 >= tenths_.size()) {
    out["checked"] = false;
    out["ok"] = true;
    return out;
  }
  const auto& warm = tenths_[warm_at]["cricketd"];
  long rss_max = 0;
  long fds_max = 0;
  for (size_t i = warm_at + 1; i < tenths_.size(); ++i) {
    rss_max = std::max(rss_max, tenths_[i]["cricketd"]["rss_kib"].get<long>());
    fds_max = std::max(fds_max, tenths_[i]["cricketd"]["fds"].get<long>());
  }
  const long rss_growth = rss_max - warm["rss_kib"].get<long>();
  const long fd_growth = fds_max - warm["fds"].get<long>();
  nlohmann::json why = nlohmann::json::array();
  if (rss_growth > rss_bound_kib) {
    why.push_back("cricketd RSS grew " + std::to_string(rss_growth) + " KiB after warm-up");
  }
  if (fd_growth > fd_bound) {
    why.push_back("cricketd fds grew by " + std::to_string(fd_growth) + " after warm-up");
  }
  out["checked"] = true;
  out["rss_after_warmup_kib"] = warm["rss_kib"];
  out["rss_max_after_kib"] = rss_max;
  out["rss_growth_kib"] = rss_growth;
  out["fds_after_warmup"] = warm["fds"];
  out["fds_max_after"] = fds_max;
  // Reported, not checked: the machine's load moves pod start more than cricketd could.
  out["p50_first_tenth_ms"] = tenths_.front()["p50_ms"];
  out["p50_last_tenth_ms"] = tenths_.back()["p50_ms"];
  out["ok"] = why.empty();
  out["why"] = why;
  return out;
}

}  // namespace cricket::bench
