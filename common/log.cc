#include "common/log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/unique_fd.h"

namespace cricket::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) {
    return;
  }
  out += key;
  out += '=';
  out += value;
  out += ' ';
}

// RFC 3339 UTC with microseconds, as containerd and CRI-O print. With gmtime_r, not fmt's
// chrono formatting: that builds the C++ locale on first use, ~0.3 MiB of code kept resident
// in every (statically linked) shim.
std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds).count();
  const time_t t = std::chrono::system_clock::to_time_t(seconds);
  struct tm utc = {};
  ::gmtime_r(&t, &utc);
  char text[64];  // room for any int the compiler cannot rule out
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(micros));
  return text;
}

// A log file on a fd opened O_CLOEXEC. spdlog 1.10's basic_file_sink opens with fopen(3) and no
// "e" (its SPDLOG_PREVENT_CHILD_FD is a build option of libspdlog, off in Debian's): every
// process the shim runs (runtimes, hooks) would inherit its log. One write(2) per line, as the
// logger flushes every line anyway.
class CloexecFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CloexecFileSink(UniqueFd fd) : fd_(std::move(fd)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const char* data = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), data, left);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return;  // nowhere left to report it
      }
      data += n;
      left -= static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
};

spdlog::logger& Logger() {
  // One stderr logger; we format the whole line ourselves so text and JSON share one path.
  static auto* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto* l = new spdlog::logger("cricket", std::move(sink));  // NOLINT(cppcoreguidelines-owning-memory): lives for the process
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  for (Level level : {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(level)) {
      return level;
    }
  }
  return cricket::Error(Code::kInvalidArgument,
               fmt::format("expected one of trace, debug, info, warn, error, got \"{}\"", name));
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") {
    return Format::kText;
  }
  if (name == "json") {
    return Format::kJson;
  }
  return cricket::Error(Code::kInvalidArgument, fmt::format("expected text or json, got \"{}\"", name));
}

Result<void> RedirectToFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     0644));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return cricket::Error(Code::kUnavailable, "log to " + path + ": " + std::strerror(errno));
  }
  auto sink = std::make_shared<CloexecFileSink>(std::move(fd));
  sink->set_pattern("%v");  // the line is ours, as on the first sink (see Logger())
  auto& sinks = Logger().sinks();
  sinks.clear();
  sinks.push_back(std::move(sink));
  return Ok();
}

void Init(Level level, Format format) {
  g_level = level;
  g_format = format;
}

bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

std::string Render(Format format, Level level, const Fields& fields, std::string_view message) {
  if (format == Format::kJson) {
    nlohmann::json line = {{"level", LevelName(level)}, {"msg", message}};
    for (auto [key, value] : {std::pair{"rpc", fields.rpc}, std::pair{"pod", fields.pod},
                              std::pair{"ctr", fields.ctr}, std::pair{"image", fields.image}}) {
      if (!value.empty()) {
        line[key] = value;
      }
    }
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out;
  out.reserve(message.size() + 64);
  out += LevelName(level);
  out += ' ';
  AppendField(out, "rpc", fields.rpc);
  AppendField(out, "pod", fields.pod);
  AppendField(out, "ctr", fields.ctr);
  AppendField(out, "image", fields.image);
  out += message;
  return out;
}

void Write(Level level, const Fields& fields, std::string_view message) {
  Format format = g_format.load(std::memory_order_relaxed);
  std::string line = Render(format, level, fields, message);
  if (format == Format::kJson) {
    // Put the time first without re-parsing: the rendered object always starts with '{'.
    line.insert(1, fmt::format("\"time\":\"{}\",", NowRfc3339()));
  } else {
    line.insert(0, NowRfc3339() + " ");
  }
  Logger().log(ToSpd(level), "{}", line);
}

}  // namespace cricket::log
