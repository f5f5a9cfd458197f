#include "shim/cri_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

namespace cricket::shim {
namespace {

Result<UniqueFd> OpenLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);  // NOLINT
  if (fd < 0) {
    return Error::FromErrno(errno, "open container log " + path);
  }
  return UniqueFd(fd);
}

std::string_view StreamName(LogStream stream) {
  return stream == LogStream::kStdout ? "stdout" : "stderr";
}

}  // namespace

std::string FormatCriTimestamp(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  struct tm utc {};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     ns % 1000000000);
}

Result<CriLogWriter> CriLogWriter::Open(std::string path, size_t max_line_bytes, Clock clock) {
  CR_ASSIGN_OR_RETURN(UniqueFd fd, OpenLog(path));
  return CriLogWriter(std::move(path), std::move(fd), max_line_bytes, std::move(clock));
}

Result<void> CriLogWriter::Emit(LogStream stream, char tag, std::string_view content) {
  std::string entry = FormatCriTimestamp(clock_());
  entry += ' ';
  entry += StreamName(stream);
  entry += ' ';
  entry += tag;
  entry += ' ';
  entry += content;
  entry += '\n';
  // One write(2) per entry on an O_APPEND fd: entries of the two streams never interleave.
  std::string_view rest = entry;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "write container log " + path_);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Result<void> CriLogWriter::Write(LogStream stream, std::string_view data) {
  // Invariant: pending.size() < max_line_bytes_ between calls.
  std::string& pending = pending_[stream == LogStream::kStdout ? 0 : 1];
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    const size_t line_len = newline == std::string_view::npos ? data.size() : newline;
    const size_t room = max_line_bytes_ - pending.size();
    if (newline != std::string_view::npos && line_len <= room) {
      pending.append(data.substr(0, line_len));
      CR_RETURN_IF_ERROR(Emit(stream, 'F', pending));
      pending.clear();
      data.remove_prefix(line_len + 1);
    } else if (line_len < room) {
      pending.append(data);  // no newline, and it still fits: wait for the rest
      return Ok();
    } else {
      pending.append(data.substr(0, room));  // one full-size partial entry
      CR_RETURN_IF_ERROR(Emit(stream, 'P', pending));
      pending.clear();
      data.remove_prefix(room);
    }
  }
  return Ok();
}

Result<void> CriLogWriter::Flush(LogStream stream) {
  std::string& pending = pending_[stream == LogStream::kStdout ? 0 : 1];
  if (pending.empty()) {
    return Ok();
  }
  auto written = Emit(stream, 'F', pending);
  pending.clear();
  return written;
}

Result<void> CriLogWriter::Reopen() {
  CR_ASSIGN_OR_RETURN(fd_, OpenLog(path_));
  return Ok();
}

}  // namespace cricket::shim
