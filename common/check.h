#pragma once

// CR_CHECK aborts on a broken invariant. Never use it for bad input or kernel errors:
// those are Results.

namespace cricket::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
}  // namespace cricket::internal

#define CR_CHECK(cond)                                               \
  do {                                                               \
    if (!(cond)) {                                                   \
      ::cricket::internal::CheckFailed(#cond, __FILE__, __LINE__);   \
    }                                                                \
  } while (false)
