#include "shim/log_pump.h"

#include "common/log.h"

namespace cricket::shim {

LogPump::LogPump(CriLogWriter writer, size_t max_queued_bytes)
    : writer_(std::move(writer)), max_queued_bytes_(max_queued_bytes), thread_([this] { Run(); }) {}

LogPump::~LogPump() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LogPump::Push(LogStream stream, std::string data) {
  {
    std::lock_guard lock(mu_);
    if (queued_bytes_ + data.size() > max_queued_bytes_) {
      dropped_bytes_ += data.size();
      unreported_dropped_ += data.size();
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back({Kind::kData, stream, std::move(data)});
  }
  wake_.notify_one();
}

void LogPump::EndOfStream(LogStream stream) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({Kind::kEnd, stream, {}});
  }
  wake_.notify_one();
}

Result<void> LogPump::Reopen() {
  std::unique_lock lock(mu_);
  uint64_t seq = ++reopen_seq_;
  queue_.push_back({Kind::kReopen, LogStream::kStdout, {}});
  wake_.notify_one();
  done_.wait(lock, [&] { return reopen_done_ >= seq; });
  return reopen_result_;
}

void LogPump::Drain() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

size_t LogPump::dropped_bytes() const {
  std::lock_guard lock(mu_);
  return dropped_bytes_;
}

void LogPump::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      break;  // stopping with nothing left
    }
    Item item = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= item.data.size();
    size_t dropped = std::exchange(unreported_dropped_, 0);
    busy_ = true;
    lock.unlock();

    Result<void> result = Ok();
    if (dropped > 0) {
      // Said in the log itself, where whoever reads it will see the gap.
      (void)writer_.Write(LogStream::kStderr, "[cricket-shim] log queue full: dropped " +
                                                  std::to_string(dropped) + " bytes of output\n");
    }
    switch (item.kind) {
      case Kind::kData:
        result = writer_.Write(item.stream, item.data);
        break;
      case Kind::kEnd:
        result = writer_.Flush(item.stream);
        break;
      case Kind::kReopen:
        result = writer_.Reopen();
        break;
    }
    if (!result.ok() && item.kind != Kind::kReopen) {
      log::Warn({}, "container log: {}", result.error().message());
    }

    lock.lock();
    busy_ = false;
    if (item.kind == Kind::kReopen) {
      reopen_result_ = result;
      ++reopen_done_;
    }
    done_.notify_all();
  }
  (void)writer_.Flush(LogStream::kStdout);
  (void)writer_.Flush(LogStream::kStderr);
}

}  // namespace cricket::shim
