#pragma once

// The soak's progress (hack/bench/soak_bench.cc): one JSON line per tenth of the run with
// cricketd's memory and fds at that moment and the pod starts of that tenth, and the checks the
// final JSON makes on those lines (memory flat after warm-up, fds flat, pod start not drifting).

#include <sys/types.h>

#include <vector>

#include <nlohmann/json.hpp>

namespace cricket::bench {

// A process's memory (KiB) and open fds/threads, as /proc tells them.
struct ProcessFigures {
  long rss_kib = -1;       // VmRSS
  long rss_anon_kib = -1;  // RssAnon: the heap and thread stacks
  long rss_file_kib = -1;  // RssFile: mapped files (code, sqlite's -shm)
  long fds = -1;
  long threads = -1;
};
ProcessFigures ReadProcessFigures(pid_t pid);
nlohmann::json ToJson(const ProcessFigures& figures);

class SoakProgress {
 public:
  explicit SoakProgress(int cycles) : cycles_(cycles) {}

  // After cycle `index` (0-based) ended, with every pod start so far: the line of the tenth that
  // cycle ends, or null when it ends none. `partial` (an interrupted run's last cycle) ends a
  // tenth of its own.
  nlohmann::json CycleDone(int index, pid_t daemon, const std::vector<double>& pod_start_ms,
                           bool partial = false);
  // The tenth lines so far.
  const nlohmann::json& tenths() const { return tenths_; }
  // {"warmup_cycles": w, "rss_bound_kib": b, "rss_after_warmup_kib": r, "rss_max_after_kib": m,
  //  "rss_growth_kib": m - r, "fds_after_warmup": f, "fds_max_after": g, "p50_first_tenth_ms",
  //  "p50_last_tenth_ms", "ok": bool, "why": [...]}: RSS and fds after warm-up (the first tenth
  // ending at cycle 50 or later) stay within the bounds; without a tenth after the warm-up
  // nothing is checked ("ok" true, "checked" false).
  nlohmann::json Check(long rss_bound_kib, long fd_bound) const;

 private:
  int cycles_;
  int tenths_done_ = 0;
  size_t starts_seen_ = 0;  // pod starts counted by the lines so far
  nlohmann::json tenths_ = nlohmann::json::array();
};

}  // namespace cricket::bench
