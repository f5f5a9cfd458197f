#pragma once

// Test helpers shared by all suites.

#include <string>

namespace cricket::testing {

// A fresh directory under $TMPDIR (or /tmp) named crtest-<pid>-<tag>-XXXXXX, removed with
// everything below it when the object goes out of scope, also when the test fails.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// True when the tests run as root. Root-only tests call CR_REQUIRE_ROOT() first.
bool IsRoot();
// True under CI (CI=true in the environment), where a root test must not skip.
bool InCi();

}  // namespace cricket::testing

// Skips the test without root, with a reason; fails it instead under CI.
#define CR_REQUIRE_ROOT()                                                  \
  do {                                                                     \
    if (!::cricket::testing::IsRoot()) {                                   \
      if (::cricket::testing::InCi()) {                                    \
        FAIL() << "this test needs root and CI runs as root";             \
      }                                                                    \
      GTEST_SKIP() << "needs root";                                        \
    }                                                                      \
  } while (false)
