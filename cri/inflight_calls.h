#pragma once

// InflightCalls: counts the RPCs being served so shutdown can drain them. gRPC's own
// Server::Shutdown(deadline) also waits on idle client connections (kubelet keeps one open),
// so cricketd drains here first and then shuts gRPC down at once. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace cricket::cri {

class InflightCalls {
 public:
  // False once draining: the call must be refused (UNAVAILABLE).
  bool Enter() {
    std::lock_guard lock(mu_);
    if (draining_) {
      return false;
    }
    ++count_;
    return true;
  }

  void Exit() {
    std::lock_guard lock(mu_);
    if (--count_ == 0) {
      idle_.notify_all();
    }
  }

  // Refuses new calls from now on and waits until the running ones finish or `grace` passes.
  // True when all finished.
  bool Drain(std::chrono::milliseconds grace) {
    std::unique_lock lock(mu_);
    draining_ = true;
    return idle_.wait_for(lock, grace, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  int count_ = 0;         // Guarded by mu_.
  bool draining_ = false;  // Guarded by mu_.
};

}  // namespace cricket::cri
