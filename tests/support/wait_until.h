#pragma once

// Waiting for an event in a test (issue #14.4): tests run on loaded 2-core machines, where a
// container start or a process exit can take seconds. Poll the condition itself; the bound only
// ends a test that would otherwise hang, so it is generous and never the thing being tested.

#include <algorithm>
#include <chrono>
#include <thread>

namespace cricket::testing {

inline constexpr std::chrono::milliseconds kEventBound{60000};

// True as soon as `done()` is true; false when it still is not after `bound`. Polls at 1 ms,
// backing off to 50 ms, so a fast event costs little and a slow one little CPU.
template <typename Predicate>
bool WaitUntil(Predicate done, std::chrono::milliseconds bound = kEventBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  std::chrono::milliseconds pause{1};
  for (;;) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace cricket::testing
