#pragma once

// CriLogWriter: writes a container's output in the CRI log format that kubelet reads:
//
//   <RFC 3339 timestamp with nanoseconds> <stdout|stderr> <P|F> <content>\n
//
// A line longer than `max_line_bytes` is written as several P (partial) entries followed by an
// F (full) one; so is a line cut by the end of the stream. Output of the two streams is kept
// apart, each with its own partial-line buffer. Not thread-safe: the shim's log thread owns it.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::shim {

enum class LogStream { kStdout, kStderr };

// "2026-11-27T23:30:44.123456789Z".
std::string FormatCriTimestamp(std::chrono::system_clock::time_point t);

class CriLogWriter {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Opens (creating, appending) `path`. kNotFound when its directory does not exist.
  static Result<CriLogWriter> Open(std::string path, size_t max_line_bytes = 16 * 1024,
                                   Clock clock = std::chrono::system_clock::now);

  // Appends output of one stream; complete lines are written at once.
  Result<void> Write(LogStream stream, std::string_view data);
  // Writes what is buffered for `stream` as a final F entry (the stream ended mid-line).
  Result<void> Flush(LogStream stream);
  // Reopens the path (after kubelet rotated the file away). Buffered partial lines are kept.
  Result<void> Reopen();

  const std::string& path() const { return path_; }

 private:
  CriLogWriter(std::string path, UniqueFd fd, size_t max_line_bytes, Clock clock)
      : path_(std::move(path)), fd_(std::move(fd)), max_line_bytes_(max_line_bytes),
        clock_(std::move(clock)) {}
  Result<void> Emit(LogStream stream, char tag, std::string_view content);

  std::string path_;
  UniqueFd fd_;
  size_t max_line_bytes_;
  Clock clock_;
  std::string pending_[2];  // the unterminated tail of each stream
};

}  // namespace cricket::shim
