#pragma once

// Logging for all of Cricket. Every line carries the fields of the object it is about as a
// fixed prefix (`rpc=StartContainer pod=<id> ctr=<id>`), or as JSON keys with Format::kJson.
// Thread-safe. Lines go to stderr.

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket::log {

struct Fields {
  std::string_view rpc{};
  std::string_view pod{};
  std::string_view ctr{};
  std::string_view image{};
};

enum class Format { kText, kJson };
enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// "trace", "debug", "info", "warn" or "error"; kInvalidArgument otherwise.
Result<Level> ParseLevel(std::string_view name);
// "text" or "json"; kInvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);

// Sets level and format for the whole process. Safe to call again.
void Init(Level level, Format format);

// Sends every later line to `path` (appending) instead of stderr. For processes that lend their
// fd 2 to others, like the shim while it starts a container.
Result<void> RedirectToFile(const std::string& path);

bool Enabled(Level level);
void Write(Level level, const Fields& fields, std::string_view message);

// Renders one line as Write would print it, without the timestamp (for tests).
std::string Render(Format format, Level level, const Fields& fields, std::string_view message);

template <typename... Args>
void Trace(const Fields& f, fmt::format_string<Args...> fmt, Args&&... args) {
  if (Enabled(Level::kTrace)) {
    Write(Level::kTrace, f, fmt::format(fmt, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Debug(const Fields& f, fmt::format_string<Args...> fmt, Args&&... args) {
  if (Enabled(Level::kDebug)) {
    Write(Level::kDebug, f, fmt::format(fmt, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Info(const Fields& f, fmt::format_string<Args...> fmt, Args&&... args) {
  if (Enabled(Level::kInfo)) {
    Write(Level::kInfo, f, fmt::format(fmt, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Warn(const Fields& f, fmt::format_string<Args...> fmt, Args&&... args) {
  if (Enabled(Level::kWarn)) {
    Write(Level::kWarn, f, fmt::format(fmt, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void Error(const Fields& f, fmt::format_string<Args...> fmt, Args&&... args) {
  if (Enabled(Level::kError)) {
    Write(Level::kError, f, fmt::format(fmt, std::forward<Args>(args)...));
  }
}

}  // namespace cricket::log
