#include "tests/support/temp_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace cricket::testing {

TempDir::TempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): tests are single-threaded here
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/crtest-" +
                        std::to_string(::getpid()) + "-" + tag + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool IsRoot() { return ::geteuid() == 0; }

bool InCi() {
  const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe)
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace cricket::testing
