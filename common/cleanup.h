#pragma once

// Cleanup: runs a callable when it goes out of scope unless Dismiss()ed. Multi-step operations
// register one after each step and dismiss them all once the whole operation succeeded.

#include <utility>

namespace cricket {

template <typename F>
class [[nodiscard]] Cleanup {
 public:
  explicit Cleanup(F fn) : fn_(std::move(fn)) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  Cleanup(Cleanup&& other) noexcept : fn_(std::move(other.fn_)), armed_(std::exchange(other.armed_, false)) {}
  Cleanup& operator=(Cleanup&&) = delete;
  ~Cleanup() {
    if (armed_) {
      fn_();
    }
  }

  void Dismiss() { armed_ = false; }

 private:
  F fn_;
  bool armed_ = true;
};

}  // namespace cricket
