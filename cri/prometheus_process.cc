#include "cri/prometheus_process.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include "common/files.h"

namespace cricket::cri::prometheus {
namespace {

// The fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses, so
// the split starts after its last ')'); fields()[0] is field 3, "state".
std::vector<std::string> StatFields(const std::string& text) {
  std::vector<std::string> fields;
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) {
    return fields;
  }
  std::istringstream in(text.substr(paren + 1));
  std::string field;
  while (in >> field) {
    fields.push_back(field);
  }
  return fields;
}

std::optional<double> DecimalNumber(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) {
    return std::nullopt;
  }
  return value;
}

// "btime <seconds>" of /proc/stat: boot time, to which a process's start time is relative.
std::optional<double> BootTime(const std::string& proc) {
  auto stat = ReadFile(proc + "/stat");
  if (!stat.ok()) {
    return std::nullopt;
  }
  size_t at = stat->find("\nbtime ");
  return at == std::string::npos ? std::nullopt : DecimalNumber(stat->substr(at + 7));
}

// The soft "Max open files" of /proc/self/limits.
std::optional<double> MaxFds(const std::string& proc) {
  auto limits = ReadFile(proc + "/self/limits");
  if (!limits.ok()) {
    return std::nullopt;
  }
  size_t at = limits->find("Max open files");
  return at == std::string::npos ? std::nullopt
                                 : DecimalNumber(limits->substr(at + sizeof("Max open files") - 1));
}

std::optional<double> OpenFds(const std::string& proc) {
  std::error_code ec;
  std::filesystem::directory_iterator it(proc + "/self/fd", ec);
  if (ec) {
    return std::nullopt;
  }
  double count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) {
      return std::nullopt;
    }
    ++count;
  }
  return count;
}

void Gauge(TextWriter& out, std::string_view name, std::string_view type, std::string_view help,
           std::optional<double> value) {
  if (value.has_value()) {
    out.Family(name, type, help);
    out.Sample(name, {}, *value);
  }
}

}  // namespace

void WriteProcessMetrics(TextWriter& out, const std::string& proc) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // Fields by number as in proc(5), minus 3: utime 14, stime 15, num_threads 20, starttime 22,
  // vsize 23, rss 24.
  auto text = ReadFile(proc + "/self/stat");
  std::vector<std::string> f = text.ok() ? StatFields(*text) : std::vector<std::string>{};
  auto field = [&](size_t number) -> std::optional<double> {
    return number - 3 < f.size() ? DecimalNumber(f[number - 3]) : std::nullopt;
  };
  std::optional<double> cpu;
  if (auto utime = field(14), stime = field(15); utime && stime) {
    cpu = (*utime + *stime) / ticks;
  }
  Gauge(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
        cpu);
  std::optional<double> rss = field(24);
  Gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        rss ? std::optional<double>(*rss * page) : std::nullopt);
  Gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23));
  Gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", OpenFds(proc));
  Gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", MaxFds(proc));
  Gauge(out, "process_threads", "gauge", "Number of OS threads in the process.", field(20));
  std::optional<double> start;
  if (auto started = field(22), boot = BootTime(proc); started && boot) {
    start = *boot + *started / ticks;
  }
  Gauge(out, "process_start_time_seconds", "gauge",
        "Start time of the process since unix epoch in seconds.", start);
}

}  // namespace cricket::cri::prometheus
