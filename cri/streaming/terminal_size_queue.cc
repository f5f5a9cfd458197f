#include "cri/streaming/streaming_runtime.h"

namespace cricket::cri::streaming {

void TerminalSizeQueue::Push(TerminalSize size) {
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      return;
    }
    sizes_.push_back(size);
  }
  cv_.notify_all();
}

std::optional<TerminalSize> TerminalSizeQueue::Next() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || !sizes_.empty(); });
  if (sizes_.empty()) {
    return std::nullopt;
  }
  TerminalSize size = sizes_.front();
  sizes_.pop_front();
  return size;
}

void TerminalSizeQueue::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace cricket::cri::streaming
