#pragma once

// LogPump: hands container output to a CriLogWriter on a thread of its own, so a slow or full
// log disk never blocks the shim's event loop — and so never the container, whose pipes the
// loop keeps draining. The queue is bounded: output arriving while it is full is dropped and
// counted, and once the writer catches up a line in the log says how many bytes were lost.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "shim/cri_log.h"

namespace cricket::shim {

class LogPump {
 public:
  LogPump(CriLogWriter writer, size_t max_queued_bytes = 4 << 20);
  LogPump(const LogPump&) = delete;
  LogPump& operator=(const LogPump&) = delete;
  // Writes what is queued, flushes partial lines and stops the thread.
  ~LogPump();

  // Never blocks on the disk.
  void Push(LogStream stream, std::string data);
  // The stream ended: its unterminated last line is written as a full entry.
  void EndOfStream(LogStream stream);
  // Reopens the log file (after rotation); waits until done and returns the outcome.
  Result<void> Reopen();
  // Waits until everything pushed so far is written.
  void Drain();

  size_t dropped_bytes() const;

 private:
  enum class Kind { kData, kEnd, kReopen };
  struct Item {
    Kind kind;
    LogStream stream;
    std::string data;
  };
  void Run();

  CriLogWriter writer_;
  const size_t max_queued_bytes_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Item> queue_;          // Guarded by mu_.
  size_t queued_bytes_ = 0;         // Guarded by mu_.
  size_t dropped_bytes_ = 0;        // Guarded by mu_.
  size_t unreported_dropped_ = 0;   // Guarded by mu_.
  bool stopping_ = false;           // Guarded by mu_.
  bool busy_ = false;               // Guarded by mu_.
  uint64_t reopen_seq_ = 0;         // Guarded by mu_.
  uint64_t reopen_done_ = 0;        // Guarded by mu_.
  Result<void> reopen_result_ = Ok();  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace cricket::shim
